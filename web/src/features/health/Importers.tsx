import { useId, useRef, useState } from 'react';
import { api, ApiError } from '../../api/client';
import type { Job } from '../../api/types';
import { uploadFile } from '../../api/upload';
import { Button } from '../../components/ui/Button';
import { ErrorText, Notice, ProgressBar } from '../../components/ui/Feedback';
import { formatBytes } from '../../components/format';
import { jobErrorMessage, jobFraction, useJob } from './useJob';

type Kind = 'apple' | 'fhir' | 'fitbit';

const META: Record<Kind, { title: string; accept: string; blurb: string; button: string; url: string }> = {
  apple: {
    title: 'Apple Health',
    accept: '.zip,.xml,application/zip,text/xml,application/xml',
    blurb: 'On your iPhone: Health → your picture → Export All Health Data. Choose the export.zip (or export.xml).',
    button: 'Import Apple Health export',
    url: '/api/import/apple-health',
  },
  fhir: {
    title: 'FHIR records',
    accept: '.json,application/json,application/fhir+json',
    blurb: 'A FHIR R4 Bundle or resource in JSON, e.g. downloaded from your patient portal.',
    button: 'Import FHIR JSON',
    url: '/api/import/fhir',
  },
  fitbit: {
    title: 'Fitbit / Google Health',
    accept: '.zip,.tgz,.gz,application/zip,application/gzip',
    blurb: 'The archive from Google Takeout (Fitbit) as .zip or .tgz.',
    button: 'Import Fitbit archive',
    url: '/api/import/fitbit',
  },
};

const TYPE_NAMES: Record<string, string> = {
  HKQuantityTypeIdentifierHeartRate: 'heart rate',
  HKQuantityTypeIdentifierStepCount: 'steps',
  HKQuantityTypeIdentifierBodyMass: 'weight',
};

/** "HKQuantityTypeIdentifierRestingHeartRate" -> "resting heart rate"; known codes get plain names. */
export function typeName(t: string): string {
  if (TYPE_NAMES[t]) return TYPE_NAMES[t];
  if (t.startsWith('HKCharacteristic')) return 'profile details';
  const bare = t.replace(/^HK(Quantity|Category|Correlation|Workout|Data)?Type(Identifier)?/, '').replace(/^HKWorkoutActivityType/, 'workout ');
  return (
    bare
      .replace(/([a-z])([A-Z])/g, '$1 $2')
      .toLowerCase()
      .trim() || t
  );
}

function summary(job: Job): string {
  const imported = job.result?.imported ?? {};
  const parts = Object.entries(imported)
    .filter(([, n]) => n > 0)
    .map(([t, n]) => `${n.toLocaleString()} ${typeName(t)}`);
  return parts.length ? `Imported ${parts.join(', ')}.` : 'Import finished. Nothing new was found.';
}

/** `bare`: no card of its own, for a page that already frames it (Connections). */
export function Importer({ kind, onImported, bare = false }: { kind: Kind; onImported: () => void; bare?: boolean }) {
  const m = META[kind];
  const inputId = useId();
  const input = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [uploadProgress, setUploadProgress] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const job = useJob((j) => {
    if (j.status === 'done') onImported();
  });

  const run = async (f: File) => {
    setFile(f);
    setError(null);
    job.reset();
    setUploadProgress(0);
    try {
      let jobId: string;
      if (kind === 'fhir') {
        const text = await f.text();
        try {
          JSON.parse(text);
        } catch {
          throw new ApiError(422, 'invalid_json', 'That file is not valid JSON. Choose a FHIR Bundle or resource saved as .json.');
        }
        ({ jobId } = await api.post<{ jobId: string }>(m.url, undefined, { raw: text, headers: { 'Content-Type': 'application/json' } }));
        setUploadProgress(1);
      } else {
        const fields: Record<string, string> = {};
        if (kind === 'fitbit') fields.timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
        const res = await uploadFile<{ jobId: string }>(m.url, f, setUploadProgress, fields).promise;
        jobId = res.body.jobId;
      }
      job.start(jobId);
    } catch (e) {
      setUploadProgress(null);
      setError(e);
    }
  };

  const uploading = uploadProgress !== null && uploadProgress < 1 && !job.jobId;
  const j = job.job;
  const running = Boolean(job.jobId) && (!j || j.status === 'queued' || j.status === 'running');
  const busy = uploading || running || (uploadProgress !== null && !job.jobId && !error);

  return (
    <div
      className={bare ? 'flex flex-col items-start' : 'flex flex-col rounded-xl border border-stone-200 bg-white p-5 shadow-sm'}
      aria-label={m.title}
      role="group"
    >
      {!bare && <h3 className="text-sm font-semibold text-stone-900">{m.title}</h3>}
      <p className={bare ? 'text-sm text-stone-600' : 'mt-1 flex-1 text-xs leading-relaxed text-stone-600'}>{m.blurb}</p>
      <input
        ref={input}
        id={inputId}
        type="file"
        accept={m.accept}
        className="sr-only"
        tabIndex={-1}
        aria-label={m.button}
        onChange={(e) => {
          const f = e.target.files?.[0];
          e.target.value = '';
          if (f) void run(f);
        }}
      />
      <Button variant="secondary" className="mt-4" onClick={() => input.current?.click()} busy={busy}>
        {busy ? 'Importing…' : 'Choose file'}
      </Button>
      {file && (uploadProgress !== null || job.jobId) && (
        <div className={bare ? 'mt-4 w-full max-w-md' : 'mt-4'} data-testid={`import-${kind}`}>
          <p className="mb-1 truncate text-xs text-stone-600">
            {file.name} · {formatBytes(file.size)}
          </p>
          {!job.jobId ? (
            <>
              <ProgressBar value={uploadProgress} label={`Uploading ${file.name}`} />
              <p className="mt-1 text-xs text-stone-500">Uploading… {Math.round((uploadProgress ?? 0) * 100)}%</p>
            </>
          ) : j?.status === 'done' ? (
            <Notice tone="success">{summary(j)}</Notice>
          ) : j?.status === 'failed' ? (
            <ErrorText error={new Error(jobErrorMessage(j))} />
          ) : (
            <>
              <ProgressBar value={jobFraction(j)} label={`Importing ${file.name}`} />
              <p className="mt-1 text-xs text-stone-500" aria-live="polite">
                {j?.status === 'running'
                  ? `Importing… ${j.progress.done.toLocaleString()}${j.progress.total ? ` of ${j.progress.total.toLocaleString()}` : ''} ${j.progress.unit}`
                  : 'Waiting to start…'}
              </p>
            </>
          )}
        </div>
      )}
      <ErrorText error={error ?? job.error} className="mt-3" />
    </div>
  );
}
