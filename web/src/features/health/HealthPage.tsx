import { useCallback, useState } from 'react';
import { Link } from '../../app/router';
import { Button } from '../../components/ui/Button';
import { EmptyState, PageHeader } from '../../components/ui/Feedback';
import { ClinicalLists } from './ClinicalLists';
import { Dashboard } from './Dashboard';
import { Importer } from './Importers';
import { LabList } from './LabList';
import { ManualEntryDialog } from './ManualEntryDialog';
import { SummaryDialog } from './SummaryDialog';
import { usePageTitle } from '../../components/usePageTitle';

export default function HealthPage() {
  usePageTitle('Health');
  const [version, setVersion] = useState(0);
  const bump = useCallback(() => setVersion((v) => v + 1), []);
  const [adding, setAdding] = useState(false);
  const [sharing, setSharing] = useState(false);

  return (
    <div>
      <PageHeader
        title="Health"
        description="Your health data, imported from your devices and providers, stays encrypted in your vault."
        actions={
          <>
            <Button variant="secondary" onClick={() => setAdding(true)}>
              Add entry
            </Button>
            <Button onClick={() => setSharing(true)}>Share summary</Button>
          </>
        }
      />

      <Dashboard version={version} />

      <section aria-labelledby="records-h" className="mb-10">
        <h2 id="records-h" className="mb-3 text-lg font-semibold text-stone-900">
          Records
        </h2>
        <div className="mb-4">
          <LabList version={version} />
        </div>
        <ClinicalLists version={version} />
      </section>

      <section aria-labelledby="import-h" className="mb-10">
        <h2 id="import-h" className="mb-3 text-lg font-semibold text-stone-900">
          Import
        </h2>
        <div className="grid gap-4 md:grid-cols-3">
          <Importer kind="apple" onImported={bump} />
          <Importer kind="fhir" onImported={bump} />
          <Importer kind="fitbit" onImported={bump} />
        </div>
        <div className="mt-6">
          <EmptyState title="Connect a provider">
            Import a file above, or{' '}
            <Link to="/connections" className="font-medium text-teal-800 hover:underline">
              connect MyChart or Fitbit
            </Link>{' '}
            to keep records up to date.
          </EmptyState>
        </div>
      </section>

      <ManualEntryDialog open={adding} onOpenChange={setAdding} onSaved={bump} />
      <SummaryDialog open={sharing} onOpenChange={setSharing} />
    </div>
  );
}
