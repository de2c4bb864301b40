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
