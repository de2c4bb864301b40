import type { Readable } from 'node:stream';
import type { z } from 'zod';
import { unprocessable } from '../errors.js';

/** Longest accepted line: an item holds at most ~1 MB of text plus its source JSON. */
const MAX_LINE = 64 * 1024 * 1024;

/**
 * Parses JSON lines from a byte stream without holding more than one line, with each line's
 * number in `entry` (1-based, blank lines counted) for messages that point at it.
 */
export async function* readJsonLines(body: Readable | AsyncIterable<Buffer>, entry = 'the export'): AsyncGenerator<{ n: number; value: unknown }> {
  let pending: Buffer[] = [];
  let pendingLen = 0;
  let n = 0;
  const parse = (buf: Buffer) => {
    n++;
    const text = buf.toString('utf8').trim();
    if (!text) return undefined;
    try {
      return { n, value: JSON.parse(text) as unknown };
    } catch {
      throw unprocessable(`The export contains a line that is not valid JSON (line ${n} of ${entry}).`, 'invalid_export');
    }
  };
  for await (const chunk of body as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      const line = pending.length ? Buffer.concat([...pending, chunk.subarray(start, nl)]) : chunk.subarray(start, nl);
      pending = [];
      pendingLen = 0;
      const v = parse(line);
      if (v !== undefined) yield v;
      start = nl + 1;
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
      pendingLen += chunk.length - start;
      if (pendingLen > MAX_LINE) throw unprocessable(`The export contains a line that is too long (line ${n + 1} of ${entry}).`, 'invalid_export');
    }
  }
  if (pendingLen) {
    const v = parse(Buffer.concat(pending));
    if (v !== undefined) yield v;
  }
}

/**
 * The lines of one entry, each checked against `schema`: a line that is valid JSON but not a
 * valid `what` (an unknown kind, a title over the API's limit) is the export's fault, an
 * `invalid_export` naming the line, never a server error. The message names the field and the
 * rule it broke, never the value (the job's message is shown to its owner, but logs may see it).
 */
export async function* readLines<S extends z.ZodType>(
  body: Readable | AsyncIterable<Buffer>,
  entry: string,
  schema: S,
  what: string,
): AsyncGenerator<z.output<S>> {
  for await (const { n, value } of readJsonLines(body, entry)) {
    const r = schema.safeParse(value);
    if (!r.success) {
      const issue = r.error.issues[0];
      const where = issue?.path.length ? `${issue.path.map(String).join('.')}: ` : '';
      const why = issue ? ` (${where}${issue.message})` : '';
      throw unprocessable(`Line ${n} of ${entry} is not a valid ${what}${why}.`, 'invalid_export');
    }
    yield r.data;
  }
}
