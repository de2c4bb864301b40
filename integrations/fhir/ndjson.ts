/**
 * NDJSON (FHIR Bulk Data export): one resource per line. Bad lines are reported with their
 * line number, never silently skipped, so an import can tell the user what it left out.
 */
import { isObject, type Json } from './util.js';

/** One line of an NDJSON file: a parsed resource, or why the line was not one. */
export type NdjsonLine = { line: number; resource: Json } | { line: number; error: string };

/** Result of parsing a whole NDJSON text. */
export interface NdjsonParse {
  resources: Array<{ line: number; resource: Json }>;
  errors: Array<{ line: number; error: string }>;
}

/** Default cap on one line (64 MiB): Bulk Data DocumentReferences carry whole files inline. */
export const DEFAULT_MAX_LINE_CHARS = 64 * 1024 * 1024;

function parseLine(text: string, line: number): NdjsonLine | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(t);
  } catch (e) {
    return { line, error: `line ${line}: not valid JSON (${(e as Error).message})` };
  }
  if (!isObject(value)) return { line, error: `line ${line}: not a JSON object` };
  if (typeof value.resourceType !== 'string' || value.resourceType === '') {
    return { line, error: `line ${line}: JSON object without a "resourceType", not a FHIR resource` };
  }
  return { line, resource: value };
}

/** Parses a whole NDJSON text. Blank lines are ignored; line numbers are 1-based. */
export function parseNdjson(text: string): NdjsonParse {
  const out: NdjsonParse = { resources: [], errors: [] };
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  lines.forEach((l, i) => {
    const r = parseLine(l, i + 1);
    if (!r) return;
    if ('error' in r) out.errors.push(r);
    else out.resources.push(r);
  });
  return out;
}

/**
 * Streams NDJSON from chunks (strings or bytes, split anywhere, even inside a UTF-8 sequence),
 * yielding each line as soon as it is complete, so memory stays at one line whatever the size.
 */
export async function* iterateNdjson(
  source: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  opts: { maxLineChars?: number } = {},
): AsyncGenerator<NdjsonLine> {
  const max = opts.maxLineChars ?? DEFAULT_MAX_LINE_CHARS;
  const decoder = new TextDecoder('utf-8');
  let buf = '';
  let line = 0;
  let first = true;
  // Once a line is over the cap its remainder is discarded up to the next newline.
  let overflowing = false;
  for await (const chunk of source as AsyncIterable<string | Uint8Array>) {
    let text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if (first && text !== '') {
      text = text.replace(/^\uFEFF/, '');
      first = false;
    }
    let start = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', start)) !== -1) {
      line++;
      if (overflowing) {
        overflowing = false;
      } else {
        const r = parseLine(buf + text.slice(start, nl), line);
        if (r) yield r;
      }
      buf = '';
      start = nl + 1;
    }
    if (!overflowing) {
      buf += text.slice(start);
      if (buf.length > max) {
        yield { line: line + 1, error: `line ${line + 1}: longer than ${max} characters, skipped` };
        buf = '';
        overflowing = true;
      }
    }
  }
  buf += decoder.decode();
  if (!overflowing && buf.trim() !== '') {
    const r = parseLine(buf, line + 1);
    if (r) yield r;
  }
}
