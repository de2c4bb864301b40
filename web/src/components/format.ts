// Building an Intl.DateTimeFormat costs far more than formatting with one: lists format a date
// per row on every scroll frame, so keep one formatter per set of options.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = JSON.stringify(opts);
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(undefined, opts);
    formatters.set(key, f);
  }
  return f;
}

export function formatDate(iso: string | null | undefined, opts: Intl.DateTimeFormatOptions = { dateStyle: 'medium' }): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return formatter(opts).format(d);
}

/**
 * A calendar date as its source wrote it ("2021-03-06", also "2021-03" or "2021"), shown as that
 * day wherever the browser is: never moved into the browser's time zone, as an instant would be.
 */
export function formatDay(day: string | null | undefined, opts: Intl.DateTimeFormatOptions = { dateStyle: 'medium' }): string {
  if (!day) return '';
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(day);
  if (!m) return formatDate(day, opts);
  const at = new Date(`${m[1]}-${m[2] ?? '01'}-${m[3] ?? '01'}T00:00:00Z`);
  if (Number.isNaN(at.getTime())) return day;
  const partial: Intl.DateTimeFormatOptions | null = m[3] ? null : m[2] ? { year: 'numeric', month: 'short' } : { year: 'numeric' };
  return formatter({ ...(partial ?? opts), timeZone: 'UTC' }).format(at);
}

export function formatDateTime(iso: string | null | undefined): string {
  return formatDate(iso, { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

export const SOURCE_LABELS: Record<string, string> = {
  manual: 'Written by you',
  upload: 'Upload',
  fhir: 'FHIR',
  epic: 'MyChart (Epic)',
  fitbit: 'Fitbit',
  google_health: 'Google Health',
  apple_health: 'Apple Health',
};

export const KIND_LABELS: Record<string, string> = { note: 'Note', document: 'Document', record: 'Health record', series: 'Health data' };

export function isoDay(d: Date): string {
  const y = d.getFullYear();
  const m = String(d.getMonth() + 1).padStart(2, '0');
  const day = String(d.getDate()).padStart(2, '0');
  return `${y}-${m}-${day}`;
}
