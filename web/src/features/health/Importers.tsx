import { useId, useRef, useState } from 'react';
import { api, ApiError } from '../../api/client';
import type { Job } from '../../api/types';
import { importLimit, tooLargeMessage, uploadFile } from '../../api/upload';
import { Button } from '../../components/ui/Button';
import { ErrorText, Notice, ProgressBar } from '../../components/ui/Feedback';
import { SelectField } from '../../components/ui/Field';
import { formatBytes } from '../../components/format';
import { plural } from './plural';
import { jobErrorMessage, jobFraction, useJob } from './useJob';

type Kind = 'apple' | 'fhir' | 'fitbit';

/** The unit of a Fitbit archive's classic weight files, which do not say; '' leaves it to the server, which infers it from BMI. */
type WeightUnit = '' | 'kg' | 'lb';

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
    accept: '.json,.ndjson,application/json,application/fhir+json,application/fhir+ndjson,application/x-ndjson',
    blurb: 'A FHIR R4 Bundle or resource in JSON, e.g. downloaded from your patient portal, or a bulk export (.ndjson, one resource per line).',
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
  HKCategoryTypeIdentifierSleepAnalysis: 'sleep',
  // Apple Health's sleep stages, counted as minutes-per-night series beside the nights themselves.
  HKCategoryValueSleepAnalysisAsleep: 'sleep, stage not recorded',
  HKCategoryValueSleepAnalysisAsleepUnspecified: 'sleep, stage not recorded',
  HKCategoryValueSleepAnalysisAsleepDeep: 'deep sleep',
  HKCategoryValueSleepAnalysisAsleepCore: 'core (light) sleep',
  HKCategoryValueSleepAnalysisAsleepREM: 'REM sleep',
  HKCategoryValueSleepAnalysisAwake: 'awake in bed',
  HKCategoryValueSleepAnalysisInBed: 'time in bed',
};

/** "HKQuantityTypeIdentifierRestingHeartRate" -> "resting heart rate"; known codes get plain names. */
export function typeName(t: string): string {
  if (TYPE_NAMES[t]) return TYPE_NAMES[t];
  if (t.startsWith('HKCharacteristic')) return 'profile details';
  if (t === 'HKActivitySummary') return 'daily activity summary';
  const workout = /^HKWorkoutActivityType(.+)$/.exec(t)?.[1];
  if (workout) return `${words(workout)} workout`;
  // What is left of an Apple name once its "HK…TypeIdentifier" prefix (or a bare "HK") is gone.
  const bare = t.replace(/^HK(Quantity|Category|Correlation|Workout|Data)?Type(Identifier)?/, '').replace(/^HK(?=[A-Z])/, '');
  return words(bare) || t;
}

/** "RestingHeartRate" -> "resting heart rate". */
function words(camel: string): string {
  return camel
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .trim();
}

/** Plain names for the FHIR resource types people meet in patient portals: [one, many]. */
const RESOURCE_NAMES: Record<string, [string, string]> = {
  Patient: ['patient profile', 'patient profiles'],
  Observation: ['observation', 'observations'],
  Condition: ['condition', 'conditions'],
  MedicationStatement: ['medication', 'medications'],
  MedicationRequest: ['prescription', 'prescriptions'],
  Medication: ['medication', 'medications'],
  Immunization: ['immunization', 'immunizations'],
  AllergyIntolerance: ['allergy', 'allergies'],
  Procedure: ['procedure', 'procedures'],
  Encounter: ['visit', 'visits'],
  DiagnosticReport: ['report', 'reports'],
  DocumentReference: ['document', 'documents'],
  CarePlan: ['care plan', 'care plans'],
};

/**
 * What an imported type is called, as [one, many]. FHIR records are typed by their code (a bare
 * LOINC code such as "718-7", "rxnorm:…", "snomed:…") or, without one, by "fhir:<Resource>".
 * A code names a code system, not what the record is: an allergy to aspirin is RxNorm-coded, a
 * heart rate, a weight and a clinical note are LOINC-coded like a lab result. The counts do not
 * say the resource type, so coded records are "health records" rather than a word that is wrong
 * for some of them. CVX is the exception: it codes vaccines and nothing else. Apple Health types
 * and the sentences the server writes itself ("files that could not be read") keep one form.
 */
function countNames(t: string): [string, string] {
  const resource = /^(?:fhir:)?([A-Z][A-Za-z]+)$/.exec(t)?.[1];
  if (resource && !t.startsWith('HK')) return RESOURCE_NAMES[resource] ?? [`${typeName(resource)} record`, `${typeName(resource)} records`];
  if (t === 'HKActivitySummary') return ['daily activity summary', 'daily activity summaries'];
  if (t.startsWith('HKWorkoutActivityType')) return [typeName(t), `${typeName(t)}s`];
  if (t.startsWith('HK') || t.includes(' ')) return [typeName(t), typeName(t)];
  if (t.startsWith('cvx:')) return ['immunization', 'immunizations'];
  return ['health record', 'health records'];
}

/**
 * Counts the server keeps for what it did not import ("files that could not be read (not
 * imported)", "samples left out (unit or value not usable)"): said apart, never as imported.
 */
const NOT_IMPORTED = /^(.*) \(not imported\)$|^samples (left out .*)$/;

function summary(job: Job, file: string): string {
  // Grouped by the words shown, so fifty different codes read as one "50 health records".
  const totals = new Map<string, { names: [string, string]; n: number }>();
  const missed: string[] = [];
  for (const [t, n] of Object.entries(job.result?.imported ?? {})) {
    if (n <= 0) continue;
    const notImported = NOT_IMPORTED.exec(t);
    if (notImported) {
      missed.push(notImported[1] !== undefined ? `${n.toLocaleString()} ${notImported[1]}` : `${plural(n, 'sample', 'samples')} ${notImported[2]}`);
      continue;
    }
    const names = countNames(t);
    const total = totals.get(names[0]) ?? { names, n: 0 };
    total.n += n;
    totals.set(names[0], total);
  }
  const parts = [...totals.values()].map(({ names, n }) => plural(n, ...names));
  const done = parts.length ? `Imported ${parts.join(', ')} from ${file}.` : `Finished importing ${file}. Nothing new was found.`;
  return missed.length ? `${done} Not imported: ${missed.join(', ')}.` : done;
}

/**
 * A finished import's summary and, where the server had something to tell (a unit assumed, data
 * left aside), its warnings: in one status region, so a screen reader announces them together and
 * once. Older jobs carry no warnings and read as before.
 */
function Finished({ job, file }: { job: Job; file: string }) {
  const seen = new Set<string>();
  const warnings = (job.result?.warnings ?? []).filter((w) => !seen.has(w.code) && seen.add(w.code));
  if (!warnings.length) return <Notice tone="success">{summary(job, file)}</Notice>;
  return (
    <div role="status">
      <Notice tone="warning" title={summary(job, file)}>
        <ul className="list-disc space-y-1 pl-5">
          {warnings.map((w) => (
            <li key={w.code}>{w.message}</li>
          ))}
        </ul>
      </Notice>
    </div>
  );
}

/** NDJSON (FHIR bulk export): one resource per line. */
function isNdjson(f: File): boolean {
  return /\.(ndjson|jsonl)$/i.test(f.name) || /ndjson/i.test(f.type);
}

/**
 * How much of a FHIR file the browser reads to check it before sending: a bulk export runs to
 * gigabytes, which would not fit in a tab as one string; the server checks every line anyway.
 */
const CHECK_BYTES = 8 * 1024 * 1024;

/** The first line that is not valid JSON (1-based), or 0 when every line is. `partial`: the text is a file's head, so its last line may be cut. */
function badNdjsonLine(text: string, partial = false): number {
  const lines = text.split('\n');
  if (partial && lines.length > 1) lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    try {
      JSON.parse(line);
    } catch {
      return i + 1;
    }
  }
  return 0;
}

/** A head of a file whose first line is a whole JSON value and is followed by more lines: NDJSON. */
function firstLineIsJson(head: string): boolean {
  const nl = head.indexOf('\n');
  if (nl < 0) return false;
  try {
    JSON.parse(head.slice(0, nl));
    return true;
  } catch {
    return false;
  }
}

/** Refuses, before sending, a file the server would refuse after the whole upload. */
function tooLargeForServer(f: File, max: number | null): void {
  if (max !== null && f.size > max) throw new ApiError(413, 'too_large', tooLargeMessage(max));
}

/** The error, saying which file it is about when it does not already. */
function named(f: File, e: unknown): unknown {
  const message = e instanceof Error ? e.message : String(e);
  return message.includes(f.name) ? e : new Error(`Could not import ${f.name}. ${message}`);
}

/** `bare`: no card of its own, for a page that already frames it (Connections). */
export function Importer({ kind, onImported, bare = false }: { kind: Kind; onImported: () => void; bare?: boolean }) {
  const m = META[kind];
  const inputId = useId();
  const input = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [uploadProgress, setUploadProgress] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [weightUnit, setWeightUnit] = useState<WeightUnit>('');
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
        const whole = f.size <= CHECK_BYTES;
        const text = await f.slice(0, CHECK_BYTES).text();
        let ndjson = isNdjson(f);
        if (!ndjson) {
          try {
            // Past CHECK_BYTES a JSON document is left to the server, which says what is wrong with it.
            if (whole) JSON.parse(text);
            else if (firstLineIsJson(text)) ndjson = true;
          } catch {
            // A bulk export saved as .json is still one resource per line.
            if (text.trim().includes('\n') && badNdjsonLine(text) === 0) ndjson = true;
            else throw new ApiError(422, 'invalid_json', `${f.name} is not valid JSON. Choose a FHIR Bundle or resource (.json), or a bulk export (.ndjson).`);
          }
        }
        if (ndjson) {
          const bad = badNdjsonLine(text, !whole);
          if (bad)
            throw new ApiError(
              422,
              'invalid_json',
              `Line ${bad.toLocaleString()} of ${f.name} is not valid JSON. Each line of an .ndjson file must be one FHIR resource.`,
            );
        }
        tooLargeForServer(f, await importLimit(ndjson ? 'other' : 'fhir-json'));
        // The file itself is the body: the browser streams it rather than holding it as a string.
        ({ jobId } = await api.post<{ jobId: string }>(m.url, undefined, {
          raw: f,
          headers: { 'Content-Type': ndjson ? 'application/fhir+ndjson' : 'application/json' },
        }));
        setUploadProgress(1);
      } else {
        tooLargeForServer(f, await importLimit('other'));
        const fields: Record<string, string> = {};
        if (kind === 'fitbit') {
          fields.timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
          if (weightUnit) fields.weightUnit = weightUnit;
        }
        const res = await uploadFile<{ jobId: string }>(m.url, f, setUploadProgress, fields).promise;
        jobId = res.body.jobId;
      }
      job.start(jobId);
    } catch (e) {
      setUploadProgress(null);
      setError(named(f, e));
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
        hidden
        aria-label={m.button}
        onChange={(e) => {
          const f = e.target.files?.[0];
          e.target.value = '';
          if (f) void run(f);
        }}
      />
      {kind === 'fitbit' && (
        <SelectField
          label="Weight unit in this export"
          className="mt-3"
          value={weightUnit}
          disabled={busy}
          onChange={(e) => setWeightUnit(e.target.value as WeightUnit)}
        >
          <option value="">Detect</option>
          <option value="kg">Kilograms</option>
          <option value="lb">Pounds</option>
        </SelectField>
      )}
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
            <Finished job={j} file={file.name} />
          ) : j?.status === 'failed' ? (
            <ErrorText error={new Error(`Could not import ${file.name}. ${jobErrorMessage(j)}`)} />
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
      <ErrorText error={error ?? (file && job.error ? named(file, job.error) : job.error)} className="mt-3" />
    </div>
  );
}
