import { useCallback, useEffect, useId, useState } from 'react';
import { api, toApiError } from '../../api/client';
import type { AvailableProvider, Integration, IntegrationsList, Job } from '../../api/types';
import { leave } from '../../app/leave';
import { useRouter } from '../../app/router';
import { Button, Spinner } from '../../components/ui/Button';
import { Dialog } from '../../components/ui/Dialog';
import { Badge, Card, EmptyState, ErrorText, Notice, PageHeader, ProgressBar } from '../../components/ui/Feedback';
import { formatDateTime } from '../../components/format';
import { UserText } from '../../components/UserText';
import { Importer, typeName } from '../health/Importers';
import { usePolledJob } from '../health/useJob';
import { usePageTitle } from '../../components/usePageTitle';

const META: Record<string, { name: string; blurb: string }> = {
  epic: {
    name: 'Epic MyChart',
    blurb: 'Lab results, vital signs, conditions, medications, allergies, immunizations and visits from your health system’s patient portal.',
  },
  google_health: {
    name: 'Google Health',
    blurb: 'Heart rate, resting heart rate, steps, sleep and weight from your Fitbit or Pixel Watch through the Google Health API.',
  },
};

function metaOf(provider: string, label?: string) {
  return META[provider] ?? { name: label ?? provider, blurb: '' };
}

/** What went wrong on the way back from a provider, in words a person can act on. */
export function connectErrorMessage(code: string, label: string): string {
  switch (code) {
    case 'state_mismatch':
      return `The connection to ${label} could not be matched to this browser (the link may have expired). Please try again.`;
    case 'access_denied':
      return `You did not give access at ${label}, so nothing was connected.`;
    case 'invalid_id_token':
      return `${label} sent a sign-in we could not verify, so nothing was connected. Please try again.`;
    case 'invalid_grant':
      return `${label} did not accept the sign-in (it may have taken too long). Please try again.`;
    case 'invalid_client':
      return `This server is not registered correctly with ${label}. Ask whoever runs your vault to check its settings.`;
    case 'discovery_failed':
      return `${label} could not be reached to start the connection. Please try again later.`;
    case 'unsafe_endpoint':
      return `${label}’s settings point at a private network address, so this server refused to contact it. Ask whoever runs your vault.`;
    case 'network':
    case 'unreachable':
      return `${label} could not be reached. Please try again later.`;
    case 'rate_limited':
      return `${label} is receiving too many requests right now. Please wait a few minutes and try again.`;
    case 'not_configured':
      return `${label} is not set up on this server.`;
    case 'reauth_required':
      return `${label} asked you to sign in again. Connect again to resume syncing.`;
    default:
      return `Connecting to ${label} did not work. Please try again.`;
  }
}

/** Problems a connected account reports, in plain words; the server's own sentence when it has one. */
function integrationErrorMessage(integ: Integration, label: string): string {
  if (integ.status === 'reauth_required') return `${label} asked you to sign in again. Connect again to resume syncing.`;
  if (integ.error?.message) return integ.error.message;
  return connectErrorMessage(integ.error?.code ?? 'sync_failed', label);
}

const STATUS: Record<string, { text: string; tone: 'teal' | 'amber' | 'sky' | 'stone' }> = {
  connected: { text: 'Connected', tone: 'teal' },
  syncing: { text: 'Syncing', tone: 'sky' },
  error: { text: 'Sync problem', tone: 'amber' },
  reauth_required: { text: 'Sign in again', tone: 'amber' },
};

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * Starts a connect: the server answers a redirect to the provider, or (before any redirect) a
 * JSON error when discovery failed or was refused. Probe without following, then leave the page.
 */
async function connect(provider: string, endpoint?: string): Promise<void> {
  const url = `/api/integrations/${encodeURIComponent(provider)}/connect${endpoint ? `?endpoint=${encodeURIComponent(endpoint)}` : ''}`;
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'manual', credentials: 'same-origin', headers: { Accept: 'application/json' } });
  } catch {
    throw new Error('Could not reach Context Vault. Check your connection and try again.');
  }
  if (res.type === 'opaqueredirect' || (res.status >= 300 && res.status < 400)) {
    leave.assign(url);
    return;
  }
  throw await toApiError(res);
}

/** Polls the sync's job at GET /api/jobs/:id (one jobs API) until it is done or failed. */
function useSyncJob(onFinished: (job: Job) => void, intervalMs = 1000) {
  return usePolledJob<Job>(
    (id) => `/api/jobs/${encodeURIComponent(id)}`,
    (j) => j.status === 'done' || j.status === 'failed',
    onFinished,
    intervalMs,
  );
}

function syncSummary(job: Job): string {
  const parts = Object.entries(job.result?.imported ?? {})
    .filter(([, n]) => n > 0)
    .map(([t, n]) => `${n.toLocaleString()} ${typeName(t)}`);
  return parts.length ? `Sync finished: checked ${parts.join(', ')}. Anything new is now in your vault.` : 'Sync finished. Nothing new since the last sync.';
}

/**
 * What a sync could not read, by the provider's record type, with the connector's own sentence
 * ("Access to Immunization was not granted."): without it a partial sync reads as a full one.
 */
function SyncLeftOut({ job }: { job: Job }) {
  const left = Object.entries(job.result?.skipped ?? {});
  if (left.length === 0) return null;
  return (
    <Notice tone="warning" title="Not everything was synced" className="mt-2">
      <ul className="list-disc pl-5">
        {left.map(([type, why]) => (
          <li key={type}>
            {typeName(type)}: {why}
          </li>
        ))}
      </ul>
    </Notice>
  );
}

function ProviderCard({ avail, integ, onChanged }: { avail: AvailableProvider; integ: Integration | undefined; onChanged: () => void }) {
  const meta = metaOf(avail.provider, avail.label);
  const label = avail.label;
  const endpointsId = useId();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [confirm, setConfirm] = useState(false);
  const job = useSyncJob(() => onChanged());

  const doConnect = async (endpoint?: string) => {
    setBusy(`connect:${endpoint ?? ''}`);
    setError(null);
    try {
      await connect(avail.provider, endpoint);
    } catch (e) {
      setError(e);
      setBusy(null);
    }
  };
  const sync = async () => {
    setBusy('sync');
    setError(null);
    try {
      const { jobId } = await api.post<{ jobId: string }>(`/api/integrations/${avail.provider}/sync`);
      job.start(jobId);
    } catch (e) {
      setError(e);
      onChanged(); // a 409 reauth_required: show the new status and its Connect button
    } finally {
      setBusy(null);
    }
  };
  const disconnect = async () => {
    setBusy('disconnect');
    setError(null);
    try {
      await api.del(`/api/integrations/${avail.provider}`);
      setConfirm(false);
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const running = Boolean(job.jobId) && (!job.job || job.job.status === 'running');
  const status = running ? 'syncing' : integ?.status;
  const badge = status ? STATUS[status] : undefined;
  const needsReauth = integ?.status === 'reauth_required';
  // Epic: one button per health system the server allows (reconnect goes to the same one).
  const endpoints = avail.provider === 'epic' ? (needsReauth && integ?.endpoint ? [integ.endpoint] : avail.endpoints) : [undefined];

  return (
    <section aria-label={meta.name} className="rounded-xl border border-stone-200 bg-white p-5 shadow-sm">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0 flex-1">
          <div className="flex flex-wrap items-center gap-2">
            <h2 className="text-base font-semibold text-stone-900">
              <UserText>{meta.name}</UserText>
            </h2>
            {badge ? <Badge tone={badge.tone}>{badge.text}</Badge> : avail.configured ? <Badge>Not connected</Badge> : <Badge>Not set up on this server</Badge>}
          </div>
          {meta.blurb && <p className="mt-1 text-sm text-stone-600">{meta.blurb}</p>}
          {integ && (
            <dl className="mt-2 flex flex-wrap gap-x-6 gap-y-1 text-xs text-stone-500">
              {integ.endpoint && (
                <div>
                  <dt className="inline">Health system: </dt>
                  <dd className="inline font-medium text-stone-700" title={integ.endpoint}>
                    <UserText>{hostOf(integ.endpoint)}</UserText>
                  </dd>
                </div>
              )}
              <div>
                <dt className="inline">Last sync: </dt>
                <dd className="inline font-medium text-stone-700">
                  {integ.lastSyncAt ? formatDateTime(integ.lastSyncAt) : status === 'syncing' ? 'in progress' : 'not yet'}
                </dd>
              </div>
            </dl>
          )}
        </div>
        {integ && (
          <div className="flex gap-2">
            {!needsReauth && (
              <Button variant="secondary" onClick={sync} busy={busy === 'sync' || status === 'syncing'}>
                Sync now
              </Button>
            )}
            <Button variant="ghost" onClick={() => setConfirm(true)}>
              Disconnect
            </Button>
          </div>
        )}
      </div>

      {integ?.error && status !== 'syncing' && (
        <Notice tone="warning" className="mt-4">
          {integrationErrorMessage(integ, label)}
        </Notice>
      )}

      {(!integ || needsReauth) && avail.configured && (
        <div className="mt-4">
          {avail.provider === 'epic' && endpoints.length > 1 && <p className="mb-2 text-sm text-stone-600">Choose your health system:</p>}
          <ul className="space-y-2">
            {endpoints.map((ep, i) => (
              <li key={ep ?? 'default'} className="flex flex-wrap items-center justify-between gap-3 rounded-lg bg-stone-50 px-3 py-2">
                <span id={`${endpointsId}-${i}`} className="min-w-0 truncate text-sm text-stone-700" title={ep}>
                  {ep ? <UserText>{hostOf(ep)}</UserText> : 'Sign in with your Google account'}
                </span>
                <Button size="sm" onClick={() => void doConnect(ep)} busy={busy === `connect:${ep ?? ''}`} aria-describedby={`${endpointsId}-${i}`}>
                  Connect
                </Button>
              </li>
            ))}
          </ul>
        </div>
      )}

      {/* A failed sync also sets the connection's error, shown above: say it once. */}
      {job.jobId && !(job.job?.status === 'failed' && integ?.error) && (
        <div className="mt-4" aria-live="polite">
          {job.job?.status === 'done' ? (
            <>
              <Notice tone="success">{syncSummary(job.job)}</Notice>
              <SyncLeftOut job={job.job} />
            </>
          ) : job.job?.status === 'failed' ? (
            <ErrorText error={new Error(job.job.error ?? connectErrorMessage(job.job.errorCode ?? '', label))} />
          ) : (
            <>
              <ProgressBar value={null} label={`Syncing ${meta.name}`} />
              <p className="mt-1 text-xs text-stone-500">
                Fetching your records from <UserText>{label}</UserText>…
              </p>
            </>
          )}
        </div>
      )}
      <ErrorText error={error ?? job.error} className="mt-3" />

      <Dialog
        open={confirm}
        onOpenChange={setConfirm}
        title={
          <>
            Disconnect <UserText>{meta.name}</UserText>?
          </>
        }
        description={
          <>
            This server stops syncing from <UserText>{label}</UserText> and asks <UserText>{label}</UserText> to revoke its access. Records already in your
            vault stay there.
          </>
        }
      >
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={() => setConfirm(false)}>
            Cancel
          </Button>
          <Button variant="danger" onClick={disconnect} busy={busy === 'disconnect'}>
            Disconnect
          </Button>
        </div>
      </Dialog>
    </section>
  );
}

/** `?provider=epic&connected=1` or `&error=<code>` left by the connect callback. */
function useReturnBanner(): { tone: 'success' | 'error'; text: string } | null {
  const { search, navigate } = useRouter();
  const [banner] = useState(() => {
    const p = new URLSearchParams(search);
    const provider = p.get('provider');
    if (!provider) return null;
    const label = provider === 'epic' ? 'Epic' : provider === 'google_health' ? 'Google Health' : provider;
    if (p.get('connected') === '1') {
      return {
        tone: 'success' as const,
        text: `Connected to ${label}. Your records are being fetched in the background and appear in your vault when the sync finishes.`,
      };
    }
    const code = p.get('error');
    return code ? { tone: 'error' as const, text: connectErrorMessage(code, label) } : null;
  });
  useEffect(() => {
    // A reload should not show the banner again.
    if (new URLSearchParams(search).has('provider')) navigate('/connections', { replace: true });
  }, [search, navigate]);
  return banner;
}

export default function ConnectionsPage() {
  usePageTitle('Connections');
  const [data, setData] = useState<IntegrationsList | null>(null);
  const [error, setError] = useState<unknown>(null);
  const banner = useReturnBanner();

  const load = useCallback(() => {
    api
      .get<IntegrationsList>('/api/integrations')
      .then((r) => {
        setData(r);
        setError(null);
      })
      .catch(setError);
  }, []);
  useEffect(load, [load]);

  // A sync started elsewhere (right after connecting, or by the scheduler): follow it.
  const syncing = data?.integrations.some((i) => i.status === 'syncing') ?? false;
  useEffect(() => {
    if (!syncing) return;
    const t = setTimeout(load, 1500);
    return () => clearTimeout(t);
  }, [syncing, data, load]);

  const providers: AvailableProvider[] = data
    ? [
        ...data.available,
        // A connection whose provider the server no longer offers can still be disconnected.
        ...data.integrations
          .filter((i) => !data.available.some((a) => a.provider === i.provider))
          .map((i) => ({ provider: i.provider, label: metaOf(i.provider).name, configured: false, endpoints: [] })),
      ]
    : [];

  return (
    <div className="max-w-3xl">
      <PageHeader
        title="Connections"
        description="Keep your records up to date from your providers. Sign-in tokens are encrypted on this server; synced data is sealed to your vault and only opened when you are signed in."
      />
      {banner &&
        (banner.tone === 'success' ? (
          <Notice tone="success" className="mb-4">
            {banner.text}
          </Notice>
        ) : (
          <ErrorText error={new Error(banner.text)} className="mb-4" />
        ))}
      <ErrorText error={error} className="mb-4" />
      <div className="space-y-4">
        {!data && !error && (
          <div className="flex items-center gap-2 rounded-xl border border-stone-200 bg-white p-5 text-sm text-stone-500" role="status">
            <Spinner /> Loading connections…
          </div>
        )}
        {data && providers.length === 0 && (
          <EmptyState title="No connections available">
            This server has no providers set up yet. You can still import files below and on the Health page.
          </EmptyState>
        )}
        {providers.map((a) => (
          <ProviderCard key={a.provider} avail={a} integ={data?.integrations.find((i) => i.provider === a.provider)} onChanged={load} />
        ))}
        <Card
          title="Fitbit archive"
          description="Fitbit’s own sign-in was switched off by Google. Download your data from Google Takeout (“Fitbit” or “Google Health”) and import the archive here. Large archives can take a while to upload."
        >
          <Importer kind="fitbit" bare onImported={() => undefined} />
        </Card>
      </div>
    </div>
  );
}
