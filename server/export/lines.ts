import type { Readable } from 'node:stream';
import { unprocessable } from '../errors.js';

/** Longest accepted line: an item holds at most ~1 MB of text plus its source JSON. */
const MAX_LINE = 64 * 1024 * 1024;

/** Parses JSON lines from a byte stream without holding more than one line. */
export async function* readJsonLines(body: Readable | AsyncIterable<Buffer>): AsyncGenerator<unknown> {
  let pending: Buffer[] = [];
  let pendingLen = 0;
  const parse = (buf: Buffer) => {
    const text = buf.toString('utf8').trim();
    if (!text) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw unprocessable('The export contains a line that is not valid JSON.', 'invalid_export');
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
      if (pendingLen > MAX_LINE) throw unprocessable('The export contains a line that is too long.', 'invalid_export');
    }
  }
  if (pendingLen) {
    const v = parse(Buffer.concat(pending));
    if (v !== undefined) yield v;
  }
}
