import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { forgetUploadLimit } from '../../api/upload';
import { Importer } from './Importers';
import { recordValue } from './record-values';
import type { Item } from '../../api/types';

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

afterEach(() => {
  vi.unstubAllGlobals();
  forgetUploadLimit();
});

/** The import request among the calls (the limits are asked first). */
function posted(fetchMock: { mock: { calls: unknown[][] } }): RequestInit {
  const call = fetchMock.mock.calls.find(([url]) => url === '/api/import/fhir');
  return call![1] as RequestInit;
}

describe('<Importer kind="fhir">', () => {
  it('posts the file as JSON, then polls the job and shows progress and the result', async () => {
    const polls = [
      { id: 'j1', kind: 'fhir', status: 'running', progress: { done: 5, total: 10, unit: 'resources' } },
      { id: 'j1', kind: 'fhir', status: 'done', progress: { done: 10, total: 10, unit: 'resources' }, result: { imported: { Observation: 8, Condition: 2 } } },
    ];
    const fetchMock = vi.fn(async (url: string, _init: RequestInit = {}) => {
      if (url === '/api/import/fhir') return json(202, { jobId: 'j1' });
      if (url === '/api/jobs/j1') return json(200, polls.length > 1 ? polls.shift() : polls[0]);
      return json(404, { error: { code: 'not_found', message: 'nope' } });
    });
    vi.stubGlobal('fetch', fetchMock);
    const onImported = vi.fn();
    render(<Importer kind="fhir" onImported={onImported} />);
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [] };
    const file = new File([JSON.stringify(bundle)], 'bundle.json', { type: 'application/json' });
    fireEvent.change(screen.getByLabelText('Import FHIR JSON'), { target: { files: [file] } });

    const bar = await screen.findByRole('progressbar', { name: 'Importing bundle.json' });
    await waitFor(() => expect(bar.getAttribute('aria-valuenow')).toBe('50'));
    expect(screen.getByText(/5 of 10 resources/)).toBeTruthy();
    await screen.findByText('Imported 8 observations, 2 conditions from bundle.json.', {}, { timeout: 3000 });
    expect(onImported).toHaveBeenCalledTimes(1);

    const init = posted(fetchMock);
    expect(init.method).toBe('POST');
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/json');
    expect(JSON.parse(await (init.body as Blob).text())).toEqual(bundle);
  });

  it('refuses a file that is not JSON without calling the server', async () => {
    const fetchMock = vi.fn();
    vi.stubGlobal('fetch', fetchMock);
    render(<Importer kind="fhir" onImported={() => undefined} />);
    fireEvent.change(screen.getByLabelText('Import FHIR JSON'), { target: { files: [new File(['<xml/>'], 'x.json')] } });
    await screen.findByText(/not valid JSON/);
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('names the file in a refusal', async () => {
    vi.stubGlobal('fetch', vi.fn());
    render(<Importer kind="fhir" onImported={() => undefined} />);
    fireEvent.change(screen.getByLabelText('Import FHIR JSON'), { target: { files: [new File(['<xml/>'], 'labs-2024.json')] } });
    expect((await screen.findByRole('alert')).textContent).toContain('labs-2024.json');
  });

  it('sends a bulk export (.ndjson) as application/fhir+ndjson', async () => {
    const fetchMock = vi.fn(async (url: string, _init: RequestInit = {}) =>
      url === '/api/import/fhir'
        ? json(202, { jobId: 'j3' })
        : json(200, { id: 'j3', kind: 'fhir', status: 'done', progress: { done: 2, unit: 'resources' }, result: { imported: { 'snomed:44054006': 2 } } }),
    );
    vi.stubGlobal('fetch', fetchMock);
    render(<Importer kind="fhir" onImported={() => undefined} />);
    const lines = '{"resourceType":"Condition","id":"a"}\n{"resourceType":"Condition","id":"b"}\n';
    fireEvent.change(screen.getByLabelText('Import FHIR JSON'), { target: { files: [new File([lines], 'Condition.ndjson')] } });
    await screen.findByText('Imported 2 health records from Condition.ndjson.', {}, { timeout: 3000 });
    const init = posted(fetchMock);
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/fhir+ndjson');
    expect(await (init.body as Blob).text()).toBe(lines);
    expect(screen.getByLabelText('Import FHIR JSON').getAttribute('accept')).toContain('.ndjson');
  });

  it('sends a bulk export larger than it reads as the file itself, checking only its head', async () => {
    const fetchMock = vi.fn(async (url: string, _init: RequestInit = {}) =>
      url === '/api/import/fhir'
        ? json(202, { jobId: 'j5' })
        : url === '/api/limits'
          ? json(200, { maxUploadBytes: 1 << 20, maxImportBytes: 1 << 30, maxFhirJsonBytes: 1 << 28 })
          : json(200, { id: 'j5', kind: 'fhir', status: 'done', progress: { done: 1, unit: 'resources' }, result: { imported: {} } }),
    );
    vi.stubGlobal('fetch', fetchMock);
    render(<Importer kind="fhir" onImported={() => undefined} />);
    // 9 MB of resources, named .json, the last line cut where the check stops reading.
    const line = `{"resourceType":"Observation","id":"o","status":"final","note":[{"text":"${'x'.repeat(1000)}"}]}\n`;
    const file = new File([line.repeat(9 * 1024)], 'Observation.json');
    fireEvent.change(screen.getByLabelText('Import FHIR JSON'), { target: { files: [file] } });
    await waitFor(() => expect(fetchMock.mock.calls.some(([url]) => url === '/api/import/fhir')).toBe(true));
    const init = posted(fetchMock);
    expect(init.body).toBe(file);
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/fhir+ndjson');
  });

  it('refuses, before sending, a file over the server’s import limit', async () => {
    const fetchMock = vi.fn(async (url: string) =>
      url === '/api/limits' ? json(200, { maxUploadBytes: 10, maxImportBytes: 64, maxFhirJsonBytes: 32 }) : json(202, { jobId: 'j6' }),
    );
    vi.stubGlobal('fetch', fetchMock);
    render(<Importer kind="fhir" onImported={() => undefined} />);
    const bundle = JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [], id: 'a-bundle-of-more-than-32-bytes' });
    fireEvent.change(screen.getByLabelText('Import FHIR JSON'), { target: { files: [new File([bundle], 'big.json')] } });
    expect((await screen.findByRole('alert')).textContent).toMatch(/big\.json.*larger than this server accepts/);
    expect(fetchMock.mock.calls.map(([url]) => url)).toEqual(['/api/limits']);
  });

  it('says which line of an .ndjson file is broken, and which file', async () => {
    const fetchMock = vi.fn();
    vi.stubGlobal('fetch', fetchMock);
    render(<Importer kind="fhir" onImported={() => undefined} />);
    fireEvent.change(screen.getByLabelText('Import FHIR JSON'), { target: { files: [new File(['{"resourceType":"Condition"}\n{oops\n'], 'c.ndjson')] } });
    await screen.findByText('Line 2 of c.ndjson is not valid JSON. Each line of an .ndjson file must be one FHIR resource.');
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('names what was imported in plain words, never by its code', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) =>
        url === '/api/import/fhir'
          ? json(202, { jobId: 'j4' })
          : json(200, {
              id: 'j4',
              kind: 'fhir',
              status: 'done',
              progress: { done: 4, unit: 'resources' },
              result: { imported: { 'fhir:Patient': 1, '718-7': 1, '2093-3': 2, 'rxnorm:313782': 1 } },
            }),
      ),
    );
    render(<Importer kind="fhir" onImported={() => undefined} />);
    fireEvent.change(screen.getByLabelText('Import FHIR JSON'), { target: { files: [new File(['{"resourceType":"Bundle"}'], 'portal.json')] } });
    // Codes name a code system, not a kind of record: coded records are "health records" (see countNames).
    await screen.findByText('Imported 1 patient profile, 4 health records from portal.json.', {}, { timeout: 3000 });
    expect(screen.queryByText(/fhir:/)).toBeNull();
  });

  it('says what was not imported apart from what was', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) =>
        url === '/api/import/fhir'
          ? json(202, { jobId: 'j5' })
          : json(200, {
              id: 'j5',
              kind: 'fhir',
              status: 'done',
              progress: { done: 6, unit: 'resources' },
              result: {
                imported: {
                  '718-7': 3,
                  'resources that could not be read (not imported)': 2,
                  'samples left out (unit or value not usable)': 1,
                  'files that could not be read (not imported)': 1200,
                },
              },
            }),
      ),
    );
    render(<Importer kind="fhir" onImported={() => undefined} />);
    fireEvent.change(screen.getByLabelText('Import FHIR JSON'), { target: { files: [new File(['{"resourceType":"Bundle"}'], 'portal.json')] } });
    await screen.findByText(
      'Imported 3 health records from portal.json. Not imported: 2 resources that could not be read, 1 sample left out (unit or value not usable), 1,200 files that could not be read.',
      {},
      { timeout: 3000 },
    );
  });

  it('shows the warnings of a finished import with its summary, in one status message, once each', async () => {
    const pounds =
      "Some weights were read as pounds (Fitbit's default): their files say no unit, and no weight in the archive has a BMI that tells it. If your account used kilograms, import again with the weight unit set to kilograms (the weightUnit field set to kg).";
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) =>
        url === '/api/import/fhir'
          ? json(202, { jobId: 'j9' })
          : json(200, {
              id: 'j9',
              kind: 'fitbit',
              status: 'done',
              progress: { done: 2, unit: 'files' },
              result: {
                imported: { HKQuantityTypeIdentifierBodyMass: 2 },
                warnings: [
                  { code: 'weight_read_as_pounds', message: pounds, count: 1 },
                  { code: 'no_time_zone', message: 'No time zone was given, so UTC was used.' },
                ],
              },
            }),
      ),
    );
    render(<Importer kind="fhir" onImported={() => undefined} />);
    fireEvent.change(screen.getByLabelText('Import FHIR JSON'), { target: { files: [new File(['{"resourceType":"Bundle"}'], 'kg.json')] } });
    await screen.findByText('Imported 2 weight from kg.json.', {}, { timeout: 3000 });
    const status = screen.getAllByRole('status');
    expect(status).toHaveLength(1);
    expect(status[0]!.textContent).toContain('Imported 2 weight from kg.json.');
    expect(screen.getAllByText(pounds)).toHaveLength(1);
    expect(status[0]!.contains(screen.getByText(pounds))).toBe(true);
    expect(screen.getAllByText('No time zone was given, so UTC was used.')).toHaveLength(1);
  });

  it('reads a finished job from before warnings were kept as before', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) =>
        url === '/api/import/fhir'
          ? json(202, { jobId: 'j10' })
          : json(200, { id: 'j10', kind: 'fhir', status: 'done', progress: { done: 1, unit: 'resources' }, result: { imported: { Observation: 1 } } }),
      ),
    );
    render(<Importer kind="fhir" onImported={() => undefined} />);
    fireEvent.change(screen.getByLabelText('Import FHIR JSON'), { target: { files: [new File(['{"resourceType":"Bundle"}'], 'old.json')] } });
    const done = await screen.findByText('Imported 1 observation from old.json.', {}, { timeout: 3000 });
    expect(screen.getByRole('status').contains(done)).toBe(true);
    expect(screen.queryByRole('list')).toBeNull();
  });

  it('shows the job error when the import fails', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) =>
        url === '/api/import/fhir'
          ? json(202, { jobId: 'j2' })
          : json(200, {
              id: 'j2',
              kind: 'fhir',
              status: 'failed',
              progress: { done: 0, unit: 'resources' },
              error: { code: 'invalid_fhir', message: 'This is not a FHIR Bundle.' },
            }),
      ),
    );
    render(<Importer kind="fhir" onImported={() => undefined} />);
    fireEvent.change(screen.getByLabelText('Import FHIR JSON'), { target: { files: [new File(['{"a":1}'], 'a.json')] } });
    await screen.findByText('Could not import a.json. This is not a FHIR Bundle.');
  });
});

describe('typeName', () => {
  it('turns HealthKit identifiers into words', async () => {
    const { typeName } = await import('./Importers');
    expect(typeName('HKQuantityTypeIdentifierHeartRate')).toBe('heart rate');
    expect(typeName('HKQuantityTypeIdentifierRestingHeartRate')).toBe('resting heart rate');
    expect(typeName('HKCharacteristics')).toBe('profile details');
    expect(typeName('HKCategoryTypeIdentifierSleepAnalysis')).toBe('sleep');
    expect(typeName('HKCategoryValueSleepAnalysisAsleepDeep')).toBe('deep sleep');
    expect(typeName('HKCategoryValueSleepAnalysisAsleepREM')).toBe('REM sleep');
  });
});

describe('import summaries name things by what they are', () => {
  // The summary is worded the same for every importer; the FHIR one is driven here (fetch, no XHR upload).
  async function summaryFor(imported: Record<string, number>) {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) =>
        url === '/api/import/fhir'
          ? json(202, { jobId: 'j9' })
          : json(200, { id: 'j9', kind: 'fhir', status: 'done', progress: { done: 1, unit: 'resources' }, result: { imported } }),
      ),
    );
    render(<Importer kind="fhir" onImported={() => undefined} />);
    fireEvent.change(screen.getByLabelText('Import FHIR JSON'), { target: { files: [new File(['{"resourceType":"Bundle"}'], 'a.json')] } });
    return (await screen.findByText(/^Imported /, {}, { timeout: 3000 })).textContent ?? '';
  }

  it('does not call an RxNorm-coded allergy a medication, nor a LOINC-coded note a test result', async () => {
    // AllergyIntolerance.ndjson: 7 SNOMED-coded allergies and one to aspirin, coded in RxNorm.
    const text = await summaryFor({ 'snomed:91935009': 4, 'snomed:300913006': 3, 'rxnorm:1191': 1, '34133-9': 2 });
    expect(text).toBe('Imported 10 health records from a.json.');
    expect(text).not.toMatch(/medication|test result/);
  });

  it('names Apple Health summaries and workouts in plain words', async () => {
    const text = await summaryFor({ HKActivitySummary: 17, HKWorkoutActivityTypeWalking: 1, HKCharacteristics: 1 });
    expect(text).toContain('17 daily activity summaries');
    expect(text).toContain('1 walking workout');
    expect(text).not.toMatch(/hk|workout walking/i);
  });
});

describe('recordValue', () => {
  it('reads the normalised shape the FHIR importer stores', () => {
    const v = recordValue({
      id: 'i',
      kind: 'record',
      source: 'fhir',
      type: '718-7',
      title: 'Hemoglobin',
      text: '',
      tags: ['laboratory'],
      occurredAt: null,
      createdAt: '',
      updatedAt: '',
      version: 1,
      folderId: null,
      data: { value: 17.2, unit: 'g/dL', referenceRange: [{ summary: '13–17 g/dL', low: 13, high: 17, unit: 'g/dL' }], interpretation: ['high'] },
    });
    expect(v).toMatchObject({ value: '17.2', unit: 'g/dL', range: '13–17 g/dL', flag: 1, interpretation: 'high' });
  });

  const base: Item = {
    id: 'i',
    kind: 'record',
    source: 'fhir',
    type: '2093-3',
    title: 'Cholesterol',
    text: '',
    tags: ['laboratory'],
    occurredAt: null,
    createdAt: '',
    updatedAt: '',
    version: 1,
    folderId: null,
  };

  it('reads value and reference range from a FHIR Observation', () => {
    const v = recordValue({
      ...base,
      data: {
        resource: {
          resourceType: 'Observation',
          valueQuantity: { value: 212, unit: 'mg/dL' },
          referenceRange: [{ low: { value: 125, unit: 'mg/dL' }, high: { value: 200, unit: 'mg/dL' } }],
        },
      },
    });
    expect(v).toMatchObject({ value: '212', unit: 'mg/dL', range: '125–200 mg/dL', flag: 1 });
  });

  it('reads normalised values and a text range', () => {
    expect(recordValue({ ...base, data: { value: 4.2, unit: 'mmol/L', referenceRange: { text: '< 5.0' } } })).toMatchObject({
      value: '4.2',
      unit: 'mmol/L',
      range: '< 5.0',
      flag: null,
    });
  });

  it('reads clinical status for conditions', () => {
    expect(recordValue({ ...base, data: { resource: { resourceType: 'Condition', clinicalStatus: { coding: [{ code: 'active' }] } } } }).status).toBe('active');
  });
});

/** Records the multipart body the upload would send; never answers (what is sent is what is tested). */
class FakeXhr {
  static sent: FormData[] = [];
  upload = {};
  open() {}
  setRequestHeader() {}
  send(body: FormData) {
    FakeXhr.sent.push(body);
  }
  abort() {}
}

describe('<Importer kind="fitbit"> weight unit', () => {
  async function upload(unit?: string): Promise<FormData> {
    FakeXhr.sent = [];
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json(200, { maxUploadBytes: 1 << 20, maxImportBytes: 1 << 30, maxFhirJsonBytes: 1 << 28 })),
    );
    render(<Importer kind="fitbit" onImported={() => undefined} />);
    const select = screen.getByRole('combobox', { name: 'Weight unit in this export' });
    expect((select as HTMLSelectElement).value).toBe('');
    if (unit !== undefined) fireEvent.change(select, { target: { value: unit } });
    fireEvent.change(screen.getByLabelText('Import Fitbit archive'), { target: { files: [new File(['zip'], 'takeout.zip')] } });
    await waitFor(() => expect(FakeXhr.sent).toHaveLength(1));
    return FakeXhr.sent[0]!;
  }

  it('offers Detect, Kilograms and Pounds', () => {
    vi.stubGlobal('fetch', vi.fn());
    render(<Importer kind="fitbit" onImported={() => undefined} />);
    const select = screen.getByRole('combobox', { name: 'Weight unit in this export' });
    expect([...(select as HTMLSelectElement).options].map((o) => [o.value, o.textContent])).toEqual([
      ['', 'Detect'],
      ['kg', 'Kilograms'],
      ['lb', 'Pounds'],
    ]);
  });

  it('sends weightUnit=kg when Kilograms is chosen', async () => {
    const form = await upload('kg');
    expect(form.get('weightUnit')).toBe('kg');
    expect(form.get('file')).toMatchObject({ name: 'takeout.zip' });
  });

  it('sends weightUnit=lb when Pounds is chosen', async () => {
    expect((await upload('lb')).get('weightUnit')).toBe('lb');
  });

  it('sends no weightUnit when left on Detect, so the server infers it', async () => {
    const form = await upload();
    expect(form.has('weightUnit')).toBe(false);
    expect(form.has('timezone')).toBe(true);
  });

  it('puts weightUnit before the file, as the server requires', async () => {
    const form = await upload('kg');
    expect([...form.keys()]).toEqual(['timezone', 'weightUnit', 'file']);
  });

  it('is not offered for other imports', () => {
    vi.stubGlobal('fetch', vi.fn());
    render(<Importer kind="apple" onImported={() => undefined} />);
    expect(screen.queryByRole('combobox', { name: 'Weight unit in this export' })).toBeNull();
  });
});
