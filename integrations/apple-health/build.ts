/**
 * Turns Apple Health elements that are not plain numeric samples (workouts, activity rings,
 * category samples, correlations, the profile) into readable vault records.
 */
import { createHash } from 'node:crypto';
import type { RecordInput } from '../types.js';
import { appleDateToIso, parseAppleDate } from './dates.js';

/** Attributes of an element, as saxes gives them. */
export type Attrs = Record<string, string>;

/** One `<MetadataEntry key value/>`. */
export interface MetadataEntry {
  key: string;
  value: string;
}

const APPLE_UNITS: Record<string, string> = {
  'count/min': '/min',
  'count/s': '/s',
  mmHg: 'mm[Hg]',
  Cal: 'kcal',
  lb: '[lb_av]',
  mi: '[mi_i]',
  ft: '[ft_i]',
  in: '[in_i]',
  yd: '[yd_i]',
  degF: '[degF]',
  degC: 'Cel',
  'mL/min·kg': 'mL/min/kg',
  'mL/(kg·min)': 'mL/min/kg',
  hr: 'h',
  'km/hr': 'km/h',
  dBASPL: 'dB[SPL]',
  dBHL: 'dB[HL]',
  IU: '[IU]',
  fl_oz_us: '[foz_us]',
  'kcal/hr·kg': 'kcal/h/kg',
};

const unitCache = new Map<string, string>();

/**
 * Apple's unit strings to UCUM (the contract's unit system): "count/min" -> "/min",
 * "mmHg" -> "mm[Hg]", "Cal" -> "kcal" (Apple's "Cal" is the food calorie), "mmol<180.1558800000541>/L"
 * -> "mmol/L". Units with no mapping pass through unchanged.
 */
export function appleUnitToUcum(unit: string): string {
  let u = unitCache.get(unit);
  if (u === undefined) {
    u = APPLE_UNITS[unit] ?? unit.replace(/<[\d.]+>/g, '');
    if (unitCache.size < 1000) unitCache.set(unit, u);
  }
  return u;
}

const sha = (s: string): string => createHash('sha256').update(s).digest('base64url').slice(0, 22);

/** "HKWorkoutActivityTypeTraditionalStrengthTraining" -> "Traditional strength training". */
export function humanize(id: string, prefix = ''): string {
  let s = id.startsWith(prefix) ? id.slice(prefix.length) : id;
  s = s.replace(/^HK(Quantity|Category|Correlation|Characteristic|Data)TypeIdentifier/, '').replace(/^HKWorkoutActivityType/, '');
  const words = s
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(' ');
  return words.map((w, i) => (i === 0 ? w : /^[A-Z]+$/.test(w) && w.length > 1 ? w : w.toLowerCase())).join(' ');
}

function fmtNum(v: number, digits = 1): string {
  return String(Number(v.toFixed(digits)));
}

function unitLabel(u: string): string {
  return ({ Cal: 'kcal', 'count/min': 'bpm', hr: 'h' } as Record<string, string>)[u] ?? u;
}

/** "2018-12-17 07:54:59 -0800" -> "2018-12-17 07:54 (-0800)". */
function when(d: string | undefined): string {
  return d && d.length >= 25 ? `${d.slice(0, 10)} ${d.slice(11, 16)} (${d.slice(20, 25)})` : (d ?? 'unknown date');
}

function metaText(meta: MetadataEntry[]): string {
  return meta.length ? ` Details: ${meta.map((m) => `${humanize(m.key.replace(/^HK(MetadataKey)?/, ''))} ${m.value}`).join('; ')}.` : '';
}

function base(
  type: string,
  externalId: string,
  versionOf: unknown,
  occurredAt: string | null,
  title: string,
  text: string,
  tags: string[],
  data: Record<string, unknown>,
): RecordInput {
  return { kind: 'record', source: 'apple_health', type, externalId, externalVersion: sha(JSON.stringify(versionOf)), occurredAt, title, text, tags, data };
}

function durationMin(start: string | undefined, end: string | undefined): number {
  const s = start ? parseAppleDate(start) : NaN;
  const e = end ? parseAppleDate(end) : NaN;
  return Number.isFinite(s) && Number.isFinite(e) ? (e - s) / 60000 : 0;
}

/** One category sample (stand hour, mindful session, symptom...) with its metadata. */
export interface CategoryEntry {
  attributes: Attrs;
  metadata: MetadataEntry[];
}

/** How a category sample's value reads: "HKCategoryValueAppleStandHourStood" -> "stood". */
function categoryLabel(type: string, rawValue: string): string {
  const stem = type.replace('HKCategoryTypeIdentifier', '');
  const label = rawValue.startsWith('HKCategoryValue')
    ? humanize(rawValue.replace('HKCategoryValue', '').replace(stem, '') || rawValue.replace('HKCategoryValue', ''))
    : rawValue;
  return label === 'Not applicable' ? '' : label.toLowerCase();
}

const MAX_LISTED = 200;

/**
 * The category samples (other than sleep) of one type on one local day as one record: "Apple
 * stand hour 2024-01-01: stood 16 times" with every sample listed in its text and kept in its
 * data. One record per sample would bury a vault under tens of thousands of "stood" entries (an
 * Apple Watch writes 16-24 stand hours a day) and make search and chat retrieval read them one
 * by one. `part` numbers a day that reached the importer in more than one piece (see
 * CategoryDays); its id stays stable across imports of the same file.
 */
export function categoryDayRecord(type: string, date: string, entries: CategoryEntry[], part = 1): RecordInput {
  const name = humanize(type);
  const sorted = [...entries].sort((x, y) => (x.attributes.startDate ?? '').localeCompare(y.attributes.startDate ?? ''));
  const byLabel = new Map<string, number>();
  let minutes = 0;
  const sources = new Set<string>();
  for (const e of sorted) {
    const label = categoryLabel(type, e.attributes.value ?? '');
    byLabel.set(label, (byLabel.get(label) ?? 0) + 1);
    const m = durationMin(e.attributes.startDate, e.attributes.endDate);
    if (m > 0) minutes += m;
    sources.add(e.attributes.sourceName ?? 'an unknown source');
  }
  const times = (n: number) => (n === 1 ? 'once' : `${n} times`);
  const counted = [...byLabel].map(([label, n]) => (label ? `${label} ${times(n)}` : times(n)));
  const total = minutes >= 1 ? `, ${Math.round(minutes)} min${sorted.length > 1 ? ' in all' : ''}` : '';
  const day = date || 'an unknown date';
  const title = `${name} ${day}: ${counted.join(', ')}${total}`;
  const listed = sorted.slice(0, MAX_LISTED).map((e) => {
    const a = e.attributes;
    const label = categoryLabel(type, a.value ?? '');
    const mins = durationMin(a.startDate, a.endDate);
    const at = a.startDate && a.startDate.length >= 16 ? a.startDate.slice(11, 16) : 'unknown time';
    const from = sources.size > 1 ? ` (${a.sourceName ?? 'an unknown source'})` : '';
    return `${at}${label ? ` ${label}` : ''}${mins >= 1 ? ` for ${Math.round(mins)} min` : ''}${from}${metaText(e.metadata)}`;
  });
  const more = sorted.length > MAX_LISTED ? ` And ${sorted.length - MAX_LISTED} more.` : '';
  const offset = sorted[0]?.attributes.startDate?.slice(20, 25);
  const text = `${name} on ${day}${offset ? ` (times at ${offset})` : ''}: ${counted.join(', ')}${total}, recorded by ${[...sources].join(' and ')}. ${listed.join('; ')}.${more}`;
  const id = `${type}/${day}${part > 1 ? `/${part}` : ''}`;
  return base(type, id, sorted, appleDateToIso(sorted[0]?.attributes.startDate ?? ''), title, text, ['apple-health', 'category'], {
    date: date || null,
    entries: sorted,
  });
}

/**
 * Gathers category samples into one record per (type, local day). Apple writes an export's
 * samples grouped by type and in time order, so a day is complete long before `maxOpenDays`
 * others have opened; a day that comes back after it was emitted (out of order) becomes a
 * second record for that day rather than replacing the first.
 */
export class CategoryDays {
  readonly #open = new Map<string, CategoryEntry[]>();
  readonly #emitted = new Map<string, number>();
  #held = 0;

  constructor(
    private readonly maxOpenDays = 64,
    private readonly maxHeld = 20_000,
  ) {}

  add(a: Attrs, metadata: MetadataEntry[], out: RecordInput[]): void {
    const key = `${a.type ?? 'HKCategoryTypeIdentifier'}\u0000${(a.startDate ?? '').slice(0, 10)}`;
    let list = this.#open.get(key);
    if (!list) this.#open.set(key, (list = []));
    list.push({ attributes: a, metadata });
    this.#held++;
    while (this.#open.size > this.maxOpenDays || this.#held > this.maxHeld) this.#emitOldest(out);
  }

  drain(out: RecordInput[]): void {
    while (this.#open.size) this.#emitOldest(out);
  }

  #emitOldest(out: RecordInput[]): void {
    const [key, list] = this.#open.entries().next().value as [string, CategoryEntry[]];
    this.#open.delete(key);
    this.#held -= list.length;
    const part = (this.#emitted.get(key) ?? 0) + 1;
    this.#emitted.set(key, part);
    const [type, date] = key.split('\u0000') as [string, string];
    out.push(categoryDayRecord(type, date, list, part));
  }
}

/** A `<Correlation>`: blood pressure and food become readable records; others a generic one. */
export function correlationRecord(a: Attrs, meta: MetadataEntry[], children: Attrs[]): RecordInput {
  const type = a.type ?? 'HKCorrelationTypeIdentifier';
  const id = `${type}/${sha(`${a.sourceName}|${a.startDate}|${a.endDate}`)}`;
  const at = appleDateToIso(a.startDate ?? '');
  const find = (t: string) => children.find((c) => c.type === t);
  if (type === 'HKCorrelationTypeIdentifierBloodPressure') {
    const sys = find('HKQuantityTypeIdentifierBloodPressureSystolic');
    const dia = find('HKQuantityTypeIdentifierBloodPressureDiastolic');
    const unit = sys?.unit ?? dia?.unit ?? 'mmHg';
    const title = `Blood pressure ${sys?.value ?? '?'}/${dia?.value ?? '?'} ${unit}`;
    const text = `${title} on ${when(a.startDate)}, recorded by ${a.sourceName ?? 'an unknown source'}.${metaText(meta)}`;
    return base(type, id, [a, meta, children], at, title, text, ['apple-health', 'vital-signs', 'blood-pressure'], {
      attributes: a,
      metadata: meta,
      records: children,
      systolic: sys ? Number(sys.value) : null,
      diastolic: dia ? Number(dia.value) : null,
      unit: appleUnitToUcum(unit),
    });
  }
  const parts = children.map((c) => `${humanize(c.type ?? '').replace(/^Dietary /, '')} ${c.value ?? ''} ${unitLabel(c.unit ?? '')}`.trim());
  if (type === 'HKCorrelationTypeIdentifierFood') {
    const food = meta.find((m) => m.key === 'HKFoodType')?.value;
    const energy = find('HKQuantityTypeIdentifierDietaryEnergyConsumed');
    const title = `Food: ${food ?? 'meal'}${energy ? `, ${fmtNum(Number(energy.value), 0)} ${unitLabel(energy.unit ?? 'kcal')}` : ''}`;
    const text = `${title} on ${when(a.startDate)}, logged with ${a.sourceName ?? 'an unknown source'}.${parts.length ? ` Nutrients: ${parts.join(', ')}.` : ''}${metaText(meta)}`;
    return base(type, id, [a, meta, children], at, title, text, ['apple-health', 'nutrition'], { attributes: a, metadata: meta, records: children });
  }
  const title = humanize(type);
  const text = `${title} on ${when(a.startDate)} from ${a.sourceName ?? 'an unknown source'}: ${parts.join(', ')}.${metaText(meta)}`;
  return base(type, id, [a, meta, children], at, title, text, ['apple-health', 'correlation'], { attributes: a, metadata: meta, records: children });
}

/** Children of a `<Workout>` collected while parsing. */
export interface WorkoutParts {
  metadata: MetadataEntry[];
  events: Attrs[];
  statistics: Attrs[];
  routes: Array<{ attributes: Attrs; files: string[]; metadata: MetadataEntry[] }>;
}

function toMinutes(v: number, unit: string | undefined): number {
  if (unit === 's' || unit === 'sec') return v / 60;
  if (unit === 'hr' || unit === 'h') return v * 60;
  return v;
}

/** A `<Workout>` as one record titled like "Running 5.2 km, 31 min". */
export function workoutRecord(a: Attrs, w: WorkoutParts): RecordInput {
  const type = a.workoutActivityType ?? 'HKWorkoutActivityTypeOther';
  const activity = humanize(type);
  const dur = a.duration !== undefined && a.duration !== '' ? toMinutes(Number(a.duration), a.durationUnit) : durationMin(a.startDate, a.endDate);
  const stat = (pred: (t: string) => boolean) => w.statistics.find((s) => pred(s.type ?? ''));
  let distance = Number(a.totalDistance);
  let distUnit = a.totalDistanceUnit;
  const ds = stat((t) => t.startsWith('HKQuantityTypeIdentifierDistance'));
  if (!(distance > 0) && ds?.sum) {
    distance = Number(ds.sum);
    distUnit = ds.unit;
  }
  let energy = Number(a.totalEnergyBurned);
  let energyUnit = a.totalEnergyBurnedUnit;
  const es = stat((t) => t === 'HKQuantityTypeIdentifierActiveEnergyBurned');
  if (!(energy > 0) && es?.sum) {
    energy = Number(es.sum);
    energyUnit = es.unit;
  }
  const hr = stat((t) => t === 'HKQuantityTypeIdentifierHeartRate');
  const distText = distance > 0 ? `${distUnit === 'm' || distUnit === 'yd' ? fmtNum(distance, 0) : distance.toFixed(1)} ${distUnit ?? ''}`.trim() : '';
  const title = [activity + (distText ? ` ${distText}` : ''), dur > 0 ? `${Math.round(dur)} min` : ''].filter(Boolean).join(', ');
  const bits: string[] = [];
  if (distText) bits.push(distText);
  if (energy > 0) bits.push(`${fmtNum(energy, 0)} ${unitLabel(energyUnit ?? 'kcal')} active energy`);
  if (hr?.average) bits.push(`average heart rate ${fmtNum(Number(hr.average), 0)} bpm${hr.maximum ? ` (max ${fmtNum(Number(hr.maximum), 0)})` : ''}`);
  const pauses = w.events.filter((e) => e.type === 'HKWorkoutEventTypePause').length;
  const text =
    `${activity} on ${when(a.startDate)}${dur > 0 ? ` for ${Math.round(dur)} min` : ''}${bits.length ? `: ${bits.join(', ')}` : ''}. ` +
    `Recorded by ${a.sourceName ?? 'an unknown source'}.${pauses ? ` Paused ${pauses} time${pauses > 1 ? 's' : ''}.` : ''}` +
    `${w.routes.length ? ' Has a GPS route.' : ''}${metaText(w.metadata)}`;
  const data = {
    attributes: a,
    metadata: w.metadata,
    events: w.events,
    statistics: w.statistics,
    routes: w.routes,
    durationMin: dur,
    distance: distance > 0 ? distance : null,
    distanceUnit: distance > 0 ? appleUnitToUcum(distUnit ?? '') : null,
    energy: energy > 0 ? energy : null,
    energyUnit: energy > 0 ? appleUnitToUcum(energyUnit ?? '') : null,
  };
  return base(
    type,
    `Workout/${sha(`${type}|${a.sourceName}|${a.startDate}|${a.endDate}`)}`,
    [a, w],
    appleDateToIso(a.startDate ?? ''),
    title,
    text,
    ['apple-health', 'workout'],
    data,
  );
}

/** One `<ActivitySummary>` (the day's rings), or null for Apple's empty placeholders. */
export function activitySummaryRecord(a: Attrs): RecordInput | null {
  const date = a.dateComponents;
  if (!date || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return null;
  const n = (k: string) => (a[k] !== undefined && a[k] !== '' ? Number(a[k]) : null);
  const energy = n('activeEnergyBurned');
  const energyGoal = n('activeEnergyBurnedGoal');
  const moveTime = n('appleMoveTime');
  const moveTimeGoal = n('appleMoveTimeGoal');
  const exercise = n('appleExerciseTime');
  const exerciseGoal = n('appleExerciseTimeGoal');
  const stand = n('appleStandHours');
  const standGoal = n('appleStandHoursGoal');
  const eu = unitLabel(a.activeEnergyBurnedUnit ?? 'kcal');
  const parts: string[] = [];
  if (energy !== null) parts.push(`move ${fmtNum(energy, 0)}${energyGoal ? `/${fmtNum(energyGoal, 0)}` : ''} ${eu}`);
  if (moveTimeGoal) parts.push(`move time ${fmtNum(moveTime ?? 0, 0)}/${fmtNum(moveTimeGoal, 0)} min`);
  if (exercise !== null) parts.push(`exercise ${fmtNum(exercise, 0)}${exerciseGoal ? `/${fmtNum(exerciseGoal, 0)}` : ''} min`);
  if (stand !== null) parts.push(`stand ${fmtNum(stand, 0)}${standGoal ? `/${fmtNum(standGoal, 0)}` : ''} h`);
  const title = `Activity ${date}: ${parts.join(', ')}`;
  const text = `Activity rings on ${date}: ${parts.join(', ')} (value/goal).`;
  return base('HKActivitySummary', `ActivitySummary/${date}`, a, date, title, text, ['apple-health', 'activity'], {
    attributes: a,
    date,
    activeEnergyBurned: energy,
    activeEnergyBurnedGoal: energyGoal,
    activeEnergyBurnedUnit: appleUnitToUcum(a.activeEnergyBurnedUnit ?? 'kcal'),
    appleMoveTime: moveTime,
    appleMoveTimeGoal: moveTimeGoal,
    appleExerciseTime: exercise,
    appleExerciseTimeGoal: exerciseGoal,
    appleStandHours: stand,
    appleStandHoursGoal: standGoal,
  });
}

const BLOOD: Record<string, string> = {
  APositive: 'A+',
  ANegative: 'A-',
  BPositive: 'B+',
  BNegative: 'B-',
  ABPositive: 'AB+',
  ABNegative: 'AB-',
  OPositive: 'O+',
  ONegative: 'O-',
};

/** `<Me>`: date of birth, sex, blood type and skin type as one profile record (null if all unset). */
export function profileRecord(a: Attrs): RecordInput | null {
  const dob = a.HKCharacteristicTypeIdentifierDateOfBirth || null;
  const clean = (v: string | undefined, prefix: string) => (v && !v.endsWith('NotSet') ? v.replace(prefix, '') : null);
  const sex = clean(a.HKCharacteristicTypeIdentifierBiologicalSex, 'HKBiologicalSex');
  const bt = clean(a.HKCharacteristicTypeIdentifierBloodType, 'HKBloodType');
  const blood = bt ? (BLOOD[bt] ?? bt) : null;
  const skin = clean(a.HKCharacteristicTypeIdentifierFitzpatrickSkinType, 'HKFitzpatrickSkinType');
  const parts: string[] = [];
  if (dob) parts.push(`date of birth ${dob}`);
  if (sex) parts.push(`biological sex ${sex.toLowerCase()}`);
  if (blood) parts.push(`blood type ${blood}`);
  if (skin) parts.push(`Fitzpatrick skin type ${skin}`);
  if (!parts.length) return null;
  return base('HKCharacteristics', 'Me', a, null, 'Health profile', `Health profile from Apple Health: ${parts.join(', ')}.`, ['apple-health', 'profile'], {
    attributes: a,
    dateOfBirth: dob,
    biologicalSex: sex,
    bloodType: blood,
    fitzpatrickSkinType: skin,
  });
}

// The attributes Apple dates its elements by, best first (HealthKit export DTD, version 14):
// samples carry startDate, a VisionPrescription dateIssued, a WorkoutEvent date. endDate,
// expirationDate and creationDate say when something ended, lapses or was saved, not when it was.
const DATE_KEYS = ['startDate', 'dateIssued', 'date', 'receivedDate'];
const NOT_WHEN = new Set(['endDate', 'expirationDate', 'creationDate']);
const DATE_VERB: Record<string, string> = { dateIssued: 'issued', receivedDate: 'received' };
// Said in the sentence that opens the text, or says nothing a reader needs.
const UNLISTED = new Set(['type', 'sourceName', 'sourceVersion', 'device', 'creationDate', 'startDate', 'endDate']);
const MAX_CHILDREN_LISTED = 20;

/** The attribute that dates an element: a known one, or for a kind Apple adds later any other date attribute. */
function elementDate(a: Attrs): { key: string; value: string } | null {
  for (const key of DATE_KEYS) if (a[key]) return { key, value: a[key] };
  for (const [key, value] of Object.entries(a)) {
    if (/date$/i.test(key) && !NOT_WHEN.has(key) && Number.isFinite(parseAppleDate(value))) return { key, value };
  }
  return a.creationDate ? { key: 'creationDate', value: a.creationDate } : null;
}

/** "sphere -1.25 D, axis 90 deg": Apple writes a value and its unit as `x` and `xUnit`. */
function attrsText(a: Attrs, skip: ReadonlySet<string> = new Set()): string {
  return Object.entries(a)
    .filter(([k]) => !skip.has(k) && !(k.endsWith('Unit') && a[k.slice(0, -4)] !== undefined))
    .map(([k, v]) => {
      const unit = a[`${k}Unit`];
      const shown = Number.isFinite(parseAppleDate(v)) ? when(v) : v;
      return `${k} ${shown}${unit ? ` ${unit}` : ''}`;
    })
    .join(', ');
}

/** Any other element with attributes and children (Audiogram, VisionPrescription, future element kinds). */
export function genericRecord(element: string, a: Attrs, meta: MetadataEntry[], children: Array<{ name: string; attributes: Attrs }>): RecordInput {
  const type = a.type ?? `HK${element}`;
  // "HKVisionPrescriptionTypeGlasses" is the kind of a VisionPrescription: "Vision prescription (glasses)".
  const kind = type.startsWith(`HK${element}Type`) ? type.slice(`HK${element}Type`.length) : '';
  const title = kind ? `${humanize(element)} (${humanize(kind).toLowerCase()})` : a.type ? humanize(type) : humanize(element);
  const date = elementDate(a);
  const listed = attrsText(a, new Set([...UNLISTED, ...(date ? [date.key] : [])]));
  // Each kind of child under its own name, in the order met: a RightEye and a LeftEye are two
  // different things, twenty SensitivityPoints one list.
  const groups = new Map<string, Attrs[]>();
  for (const c of children) {
    const g = groups.get(c.name);
    if (g) g.push(c.attributes);
    else groups.set(c.name, [c.attributes]);
  }
  let budget = MAX_CHILDREN_LISTED;
  const childText = [...groups].map(([name, list]) => {
    const shown = list.slice(0, Math.max(budget, 0)).map((c) => attrsText(c));
    budget -= shown.length;
    if (list.length === 1) return shown.length ? ` ${humanize(name)}: ${shown[0]}.` : ` ${humanize(name)}.`;
    return ` ${list.length} ${humanize(name).toLowerCase()} entries${shown.length ? `: ${shown.join('; ')}` : ''}.`;
  });
  const text =
    `${title} ${date ? (DATE_VERB[date.key] ?? 'on') : 'on'} ${when(date?.value)}${a.sourceName ? `, recorded by ${a.sourceName}` : ''}.` +
    (listed ? ` Attributes: ${listed}.` : '') +
    childText.join('') +
    metaText(meta);
  return base(
    type,
    // startDate as before, so that elements imported earlier keep their identity; without it, the
    // element's own date keeps two prescriptions of one kind apart.
    `${element}/${sha(`${type}|${a.sourceName}|${a.startDate ?? date?.value}|${a.endDate}`)}`,
    [a, meta, children],
    appleDateToIso(date?.value ?? ''),
    title,
    text,
    ['apple-health', element.toLowerCase()],
    { element, attributes: a, metadata: meta, children },
  );
}

/** Apple's clinical types: the FHIR type its file most often holds, and what a person calls it. */
const CLINICAL_TYPES: Record<string, [string, string]> = {
  HKClinicalTypeIdentifierAllergyRecord: ['AllergyIntolerance', 'Allergy'],
  HKClinicalTypeIdentifierClinicalNoteRecord: ['DocumentReference', 'Clinical note'],
  HKClinicalTypeIdentifierConditionRecord: ['Condition', 'Condition'],
  HKClinicalTypeIdentifierCoverageRecord: ['Coverage', 'Insurance coverage'],
  HKClinicalTypeIdentifierImmunizationRecord: ['Immunization', 'Immunization'],
  HKClinicalTypeIdentifierLabResultRecord: ['Observation', 'Lab result'],
  HKClinicalTypeIdentifierMedicationRecord: ['MedicationStatement', 'Medication'],
  HKClinicalTypeIdentifierProcedureRecord: ['Procedure', 'Procedure'],
  HKClinicalTypeIdentifierVitalSignRecord: ['Observation', 'Vital sign'],
};

/** A ClinicalRecord whose FHIR JSON was not in the upload (bare export.xml), kept so it is not lost silently. */
export function missingClinicalRecord(a: Attrs, reason: string): RecordInput {
  // The identity the resource gets once its JSON is imported (`Observation/<id>`): real exports
  // name Apple's type (HKClinicalTypeIdentifierLabResultRecord), and the file
  // (clinical-records/Observation-<id>.json) the FHIR one, which wins where both are known.
  const known = Object.hasOwn(CLINICAL_TYPES, a.type ?? '') ? CLINICAL_TYPES[a.type!] : undefined;
  const fromFile = /(?:^|\/)([A-Z][A-Za-z]+)-[^/]*\.json$/.exec(a.resourceFilePath ?? '')?.[1];
  const rt = fromFile ?? known?.[0] ?? a.type ?? 'Resource';
  const label = known?.[1] ?? humanize(rt);
  const record = base(
    `fhir:${rt}`,
    `${rt}/${a.identifier ?? sha(a.resourceFilePath ?? '')}`,
    [a, reason],
    appleDateToIso(a.receivedDate ?? ''),
    `${label} from ${a.sourceName ?? 'a health provider'} (not included)`,
    `A ${label.toLowerCase()} record from ${a.sourceName ?? 'a health provider'} is listed in the Apple Health export, but its content was not available: ${reason}. Upload the whole export.zip to import it.`,
    ['apple-health', 'clinical', 'missing'],
    { attributes: a, missing: reason },
  );
  // It has the real resource's identity, for the whole export.zip to replace it later: it must
  // never replace that resource in turn.
  return { ...record, placeholder: true };
}
