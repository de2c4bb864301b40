import { useState } from 'react';
import { api, saveBlob } from '../../api/client';
import { Button } from '../../components/ui/Button';
import { Dialog } from '../../components/ui/Dialog';
import { ErrorText } from '../../components/ui/Feedback';
import { TextField } from '../../components/ui/Field';

const SECTIONS: Array<[string, string]> = [
  ['problems', 'Problems'],
  ['medications', 'Medications'],
  ['allergies', 'Allergies'],
  ['immunizations', 'Immunizations'],
  ['results', 'Recent lab results'],
  ['vitals', 'Vital-sign trends'],
  ['procedures', 'Procedures'],
];

/** Choose sections and a period, and download a summary for a doctor as a PDF or as FHIR (IPS). */
export function SummaryDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (o: boolean) => void }) {
  const [chosen, setChosen] = useState(new Set(['problems', 'medications', 'allergies', 'immunizations', 'results', 'vitals']));
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [busy, setBusy] = useState<'pdf' | 'fhir' | null>(null);
  const [error, setError] = useState<unknown>(null);

  const download = async (format: 'pdf' | 'fhir') => {
    setBusy(format);
    setError(null);
    try {
      const { blob, filename } = await api.blob('/api/summary', {
        method: 'POST',
        body: { sections: SECTIONS.map(([k]) => k).filter((k) => chosen.has(k)), format, ...(from ? { from } : {}), ...(to ? { to } : {}) },
      });
      saveBlob(blob, filename ?? (format === 'pdf' ? 'patient-summary.pdf' : 'patient-summary.json'));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      title="Share a summary"
      description="Made on the server from your vault, sent only to this browser. Nothing is kept; your activity log notes that a summary was made."
    >
      <fieldset className="grid grid-cols-2 gap-2">
        <legend className="mb-2 text-sm font-medium text-stone-700">Sections</legend>
        {SECTIONS.map(([k, label]) => (
          <label key={k} className="flex items-center gap-2 text-sm">
            <input
              type="checkbox"
              checked={chosen.has(k)}
              onChange={(e) =>
                setChosen((s) => {
                  const n = new Set(s);
                  if (e.target.checked) n.add(k);
                  else n.delete(k);
                  return n;
                })
              }
            />
            {label}
          </label>
        ))}
      </fieldset>
      <div className="mt-4 grid grid-cols-2 gap-3">
        <TextField label="From (optional)" type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        <TextField label="To (optional)" type="date" value={to} onChange={(e) => setTo(e.target.value)} />
      </div>
      <ErrorText error={error} className="mt-3" />
      <div className="mt-5 flex flex-wrap justify-end gap-2">
        <Button variant="secondary" disabled={!chosen.size} busy={busy === 'fhir'} onClick={() => download('fhir')}>
          Download FHIR (JSON)
        </Button>
        <Button disabled={!chosen.size} busy={busy === 'pdf'} onClick={() => download('pdf')}>
          Download PDF
        </Button>
      </div>
    </Dialog>
  );
}
