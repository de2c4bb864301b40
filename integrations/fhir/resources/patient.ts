/** Patient. */
import { codingsOf, conceptName } from '../codes.js';
import { describeDate } from '../dates.js';
import { type Json, obj, objs, sentences, str, strs } from '../util.js';
import type { Built, Ctx } from './context.js';
import { currentName, humanName, refLabels } from './readers.js';

export function patient(r: Json, ctx: Ctx): Built {
  const names = objs(r.name);
  const current = currentName(names);
  const name = (current && humanName(current)) ?? 'Unnamed patient';
  const previous = names
    .filter((n) => n !== current)
    .map(humanName)
    .filter((n): n is string => !!n && n !== name);
  const birthDate = str(r.birthDate);
  const gender = str(r.gender);
  const addresses = objs(r.address);
  const address = addresses.find((a) => !str(obj(a.period)?.end) && str(a.use) !== 'old') ?? addresses[0];
  const addressText = address
    ? (str(address.text) ??
      [...strs(address.line), str(address.city), [str(address.state), str(address.postalCode)].filter(Boolean).join(' '), str(address.country)]
        .filter((x) => x && x !== '')
        .join(', '))
    : undefined;
  const telecom = objs(r.telecom);
  const phones = telecom
    .filter((t) => str(t.system) === 'phone')
    .map((t) => str(t.value))
    .filter(Boolean);
  const emails = telecom
    .filter((t) => str(t.system) === 'email')
    .map((t) => str(t.value))
    .filter(Boolean);
  const languages = objs(r.communication)
    .map((c) => conceptName(c.language))
    .filter(Boolean);
  const ext = (url: string): string | undefined => {
    const e = objs(r.extension).find((x) => str(x.url)?.endsWith(url));
    return e ? str(objs(e.extension).find((x) => str(x.url) === 'text')?.valueString) : undefined;
  };
  // Only the medical record number goes into the text: SSNs, driver's licences and passports are
  // no help to a reader or a model and are kept in the encrypted original only.
  const mrn = objs(r.identifier).find((i) => codingsOf(i.type).some((c) => c.code === 'MR'));
  const deceased = str(r.deceasedDateTime)
    ? `Deceased ${describeDate(str(r.deceasedDateTime) as string)}`
    : r.deceasedBoolean === true
      ? 'Deceased'
      : undefined;
  const text = sentences([
    `Patient ${name}${gender ? `, ${gender}` : ''}${birthDate ? `, born ${describeDate(birthDate)}` : ''}`,
    previous.length ? `Previous names: ${previous.join('; ')}` : undefined,
    deceased,
    addressText ? `Address: ${addressText}` : undefined,
    phones.length ? `Phone: ${phones.join(', ')}` : undefined,
    emails.length ? `Email: ${emails.join(', ')}` : undefined,
    languages.length ? `Language: ${languages.join(', ')}` : undefined,
    conceptName(r.maritalStatus) ? `Marital status: ${conceptName(r.maritalStatus)}` : undefined,
    ext('us-core-race') ? `Race: ${ext('us-core-race')}` : undefined,
    ext('us-core-ethnicity') ? `Ethnicity: ${ext('us-core-ethnicity')}` : undefined,
    mrn && str(mrn.value) ? `Medical record number: ${str(mrn.value)}` : undefined,
    refLabels(r.generalPractitioner, ctx).length ? `General practitioner: ${refLabels(r.generalPractitioner, ctx).join(', ')}` : undefined,
  ]);
  return { type: 'fhir:Patient', occurredAt: birthDate, title: `Patient: ${name}`, text, tags: ['patient'], data: { name, gender, birthDate } };
}
