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
  const words = s.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2').split(' ');
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

function base(type: string, externalId: string, versionOf: unknown, occurredAt: string | null, title: string, text: string, tags: string[], data: Record<string, unknown>): RecordInput {
  return { kind: 'record', source: 'apple_health', type, externalId, externalVersion: sha(JSON.stringify(versionOf)), occurredAt, title, text, tags, data };
}

function durationMin(start: string | undefined, end: string | undefined): number {
  const s = start ? parseAppleDate(start) : NaN;
  const e = end ? parseAppleDate(end) : NaN;
  return Number.isFinite(s) && Number.isFinite(e) ? (e - s) / 60000 : 0;
}

/** A category sample that is not sleep (stand hour, mindful session, symptom...). */
export function categoryRecord(a: Attrs, meta: MetadataEntry[]): RecordInput {
  const type = a.type ?? 'HKCategoryTypeIdentifier';
  const name = humanize(type);
  const stem = type.replace('HKCategoryTypeIdentifier', '');
  const rawValue = a.value ?? '';
  const label = rawValue.startsWith('HKCategoryValue')
    ? humanize(rawValue.replace('HKCategoryValue', '').replace(stem, '') || rawValue.replace('HKCategoryValue', ''))
    : rawValue;
  const mins = durationMin(a.startDate, a.endDate);
  const shown = label && label !== 'Not applicable' ? `: ${label.toLowerCase()}` : '';
  const title = `${name}${shown}${mins >= 1 ? `, ${Math.round(mins)} min` : ''}`;
  const text = `${name}${shown} on ${when(a.startDate)}${mins >= 1 ? ` for ${Math.round(mins)} min` : ''}, recorded by ${a.sourceName ?? 'an unknown source'}.${metaText(meta)}`;
  return base(type, `${type}/${sha(`${a.sourceName}|${a.startDate}|${a.endDate}|${rawValue}`)}`, [a, meta], appleDateToIso(a.startDate ?? ''), title, text,
    ['apple-health', 'category'], { attributes: a, metadata: meta });
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
      attributes: a, metadata: meta, records: children,
      systolic: sys ? Number(sys.value) : null, diastolic: dia ? Number(dia.value) : null, unit: appleUnitToUcum(unit),
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
  const distText = distance > 0 ? `${distUnit === "m" || distUnit === "yd" ? fmtNum(distance, 0) : distance.toFixed(1)} ${distUnit ?? ''}`.trim() : '';
  const title = [activity + (distText ? ` ${distText}` : ''), dur > 0 ? `${Math.round(dur)} min` : ''].filter(Boolean).join(', ');
  const bits: string[] = [];
  if (distText) bits.push(distText);
  if (energy > 0) bits.push(`${fmtNum(energy, 0)} ${unitLabel(energyUnit ?? 'kcal')} active energy`);
  if (hr?.average) bits.push(`average heart rate ${fmtNum(Number(hr.average), 0)} bpm${hr.maximum ? ` (max ${fmtNum(Number(hr.maximum), 0)})` : ''}`);
  const pauses = w.events.filter((e) => e.type === 'HKWorkoutEventTypePause').length;
  const text = `${activity} on ${when(a.startDate)}${dur > 0 ? ` for ${Math.round(dur)} min` : ''}${bits.length ? `: ${bits.join(', ')}` : ''}. ` +
    `Recorded by ${a.sourceName ?? 'an unknown source'}.${pauses ? ` Paused ${pauses} time${pauses > 1 ? 's' : ''}.` : ''}` +
    `${w.routes.length ? ' Has a GPS route.' : ''}${metaText(w.metadata)}`;
  const data = {
    attributes: a, metadata: w.metadata, events: w.events, statistics: w.statistics, routes: w.routes,
    durationMin: dur, distance: distance > 0 ? distance : null, distanceUnit: distance > 0 ? appleUnitToUcum(distUnit ?? '') : null,
    energy: energy > 0 ? energy : null, energyUnit: energy > 0 ? appleUnitToUcum(energyUnit ?? '') : null,
  };
  return base(type, `Workout/${sha(`${type}|${a.sourceName}|${a.startDate}|${a.endDate}`)}`, [a, w], appleDateToIso(a.startDate ?? ''), title, text,
    ['apple-health', 'workout'], data);
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
    attributes: a, date, activeEnergyBurned: energy, activeEnergyBurnedGoal: energyGoal, activeEnergyBurnedUnit: appleUnitToUcum(a.activeEnergyBurnedUnit ?? 'kcal'),
    appleMoveTime: moveTime, appleMoveTimeGoal: moveTimeGoal, appleExerciseTime: exercise, appleExerciseTimeGoal: exerciseGoal,
    appleStandHours: stand, appleStandHoursGoal: standGoal,
  });
}

const BLOOD: Record<string, string> = {
  APositive: 'A+', ANegative: 'A-', BPositive: 'B+', BNegative: 'B-', ABPositive: 'AB+', ABNegative: 'AB-', OPositive: 'O+', ONegative: 'O-',
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
    attributes: a, dateOfBirth: dob, biologicalSex: sex, bloodType: blood, fitzpatrickSkinType: skin,
  });
}

/** Any other element with attributes and children (Audiogram, future element kinds). */
export function genericRecord(element: string, a: Attrs, meta: MetadataEntry[], children: Array<{ name: string; attributes: Attrs }>): RecordInput {
  const type = a.type ?? `HK${element}`;
  const title = humanize(type);
  const text = `${title} on ${when(a.startDate)}, recorded by ${a.sourceName ?? 'an unknown source'}.` +
    (children.length ? ` ${children.length} ${humanize(children[0]!.name).toLowerCase()} entries: ${children.slice(0, 20).map((c) => Object.entries(c.attributes).map(([k, v]) => `${k} ${v}`).join(' ')).join('; ')}.` : '') +
    metaText(meta);
  return base(type, `${element}/${sha(`${type}|${a.sourceName}|${a.startDate}|${a.endDate}`)}`, [a, meta, children], appleDateToIso(a.startDate ?? ''), title, text,
    ['apple-health', element.toLowerCase()], { element, attributes: a, metadata: meta, children });
}

/** A ClinicalRecord whose FHIR JSON was not in the upload (bare export.xml), kept so it is not lost silently. */
export function missingClinicalRecord(a: Attrs, reason: string): RecordInput {
  const rt = a.type ?? 'Resource';
  return base(`fhir:${rt}`, `${rt}/${a.identifier ?? sha(a.resourceFilePath ?? '')}`, [a, reason], appleDateToIso(a.receivedDate ?? ''),
    `${humanize(rt)} from ${a.sourceName ?? 'a health provider'} (not included)`,
    `A ${humanize(rt).toLowerCase()} record from ${a.sourceName ?? 'a health provider'} is listed in the Apple Health export, but its content was not available: ${reason}. Upload the whole export.zip to import it.`,
    ['apple-health', 'clinical', 'missing'], { attributes: a, missing: reason });
}
