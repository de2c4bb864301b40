import { messages, parse, protocol, types } from '@electric-sql/pglite';

type Parsers = Record<number | string, types.Parser>;

/** A column of a statement's result: its name and how its text becomes a value. */
export interface ResultField {
  name: string;
  dataTypeID: number;
  parse: types.Parser | undefined;
}

export interface Reply<R> {
  rows: R[];
  /** Rows inserted, updated, deleted, copied or merged, as PGlite's own `query` counts them. */
  affectedRows: number;
  /** The RowDescription, when the round asked for one. */
  fields: ResultField[] | undefined;
}

const COUNTED = new Set(['INSERT', 'UPDATE', 'DELETE', 'COPY', 'MERGE']);

/**
 * Result format codes for a statement whose columns are known: bytea as binary, every other
 * column as text; undefined when it has no bytea column. As text, PostgreSQL writes bytes as hex
 * and they are decoded again here: for a search's page of twenty ciphertexts, that was half of
 * its statement's time on PGlite (10k items; reading the same bytes with md5 cost nothing).
 */
export function resultFormats(fields: readonly ResultField[] | undefined): number[] | undefined {
  if (!fields?.some((f) => f.dataTypeID === types.BYTEA)) return undefined;
  return fields.map((f) => (f.dataTypeID === types.BYTEA ? 1 : 0));
}

/**
 * A Bind message for the unnamed portal: each parameter as node-postgres prepared it (text, or
 * bytes sent as binary), result columns in `formats` (see {@link resultFormats}), else all as
 * text. Without formats, the same bytes as PGlite's `serialize.bind`, written into one buffer.
 */
export function bindMessage(statement: string, values: ReadonlyArray<string | Buffer | null>, formats?: readonly number[]): Buffer {
  let size = 1 + 4 + 1 + Buffer.byteLength(statement) + 1 + 2 + 2 * values.length + 2 + 2 + 2 * (formats?.length ?? 0);
  for (const v of values) size += 4 + (v === null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length);
  const out = Buffer.allocUnsafe(size);
  out[0] = 0x42; // 'B'
  out.writeInt32BE(size - 1, 1);
  let at = 5;
  out[at++] = 0; // unnamed portal
  at += out.write(statement, at);
  out[at++] = 0;
  at = out.writeInt16BE(values.length, at);
  for (const v of values) at = out.writeInt16BE(v !== null && typeof v !== 'string' ? 1 : 0, at);
  at = out.writeInt16BE(values.length, at);
  for (const v of values) {
    if (v === null) {
      at = out.writeInt32BE(-1, at);
    } else if (typeof v === 'string') {
      const n = out.write(v, at + 4);
      out.writeInt32BE(n, at);
      at += 4 + n;
    } else {
      at = out.writeInt32BE(v.length, at);
      at += v.copy(out, at);
    }
  }
  at = out.writeInt16BE(formats?.length ?? 0, at); // none: all text
  for (const f of formats ?? []) at = out.writeInt16BE(f, at);
  return out;
}

/**
 * Reads the backend's reply to one Bind/Execute/Sync round. PGlite's own parser spends more on a
 * RowDescription (a private-field lookup and a copied, decoded string per name and number) than
 * the WebAssembly spends answering a primary-key lookup; a round that reuses a prepared statement
 * skips Describe and brings the fields it kept from the first round. Anything but the usual
 * messages (an error above all) is handed to PGlite's own parser and results, so errors are
 * PGlite's DatabaseErrors with every field, exactly as before.
 */
export function readReply<R>(bytes: Buffer, known: ResultField[] | undefined, parsers: Parsers, formats?: readonly number[]): Reply<R> {
  let fields = known;
  const rows: R[] = [];
  let affectedRows = 0;
  let at = 0;
  while (at + 5 <= bytes.length) {
    const type = bytes[at]!;
    const end = at + 1 + bytes.readInt32BE(at + 1);
    let p = at + 5;
    switch (type) {
      case 0x54: {
        // 'T' RowDescription
        const n = bytes.readInt16BE(p);
        p += 2;
        fields = [];
        for (let i = 0; i < n; i++) {
          const zero = bytes.indexOf(0, p);
          const name = bytes.toString('utf8', p, zero);
          const dataTypeID = bytes.readInt32BE(zero + 1 + 4 + 2);
          p = zero + 1 + 18;
          fields.push({ name, dataTypeID, parse: parsers[dataTypeID] ?? (types.parsers as Parsers)[dataTypeID] });
        }
        break;
      }
      case 0x44: {
        // 'D' DataRow
        if (!fields) return fallback(bytes, known, parsers);
        rows.push(dataRow(bytes, p, fields, formats) as R);
        break;
      }
      case 0x43: {
        // 'C' CommandComplete
        affectedRows += commandCount(bytes.toString('utf8', p, end - 1));
        break;
      }
      case 0x31: // '1' ParseComplete
      case 0x32: // '2' BindComplete
      case 0x33: // '3' CloseComplete
      case 0x6e: // 'n' NoData
      case 0x49: // 'I' EmptyQueryResponse
      case 0x4e: // 'N' Notice: PGlite drops them too unless asked
      case 0x5a: // 'Z' ReadyForQuery
        break;
      default:
        // PGlite's parser reads every column as text: with binary columns, anything but an
        // error (a notification, say) is skipped here instead.
        if (formats && type !== 0x45) break;
        return fallback(bytes, known, parsers);
    }
    at = end;
  }
  return { rows, affectedRows, fields };
}

/** A DataRow's columns from `p` on: binary ones (bytea) as a Buffer of their own, the rest parsed from text. */
function dataRow(bytes: Buffer, p: number, fields: readonly ResultField[], formats: readonly number[] | undefined): Record<string, unknown> {
  const n = bytes.readInt16BE(p);
  p += 2;
  const row: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const len = bytes.readInt32BE(p);
    p += 4;
    const f = fields[i]!;
    if (len < 0) {
      row[f.name] = null;
    } else if (formats?.[i] === 1) {
      // A copy (small ones from Node's pool): a view would keep the whole reply alive.
      const value = Buffer.allocUnsafe(len);
      bytes.copy(value, 0, p, p + len);
      row[f.name] = value;
    } else {
      const text = bytes.toString('utf8', p, p + len);
      row[f.name] = f.parse ? f.parse(text, f.dataTypeID) : text;
    }
    if (len > 0) p += len;
  }
  return row;
}

/** Rows a CommandComplete's tag ("INSERT 0 5", "UPDATE 3", "SELECT 1"...) says were written. */
function commandCount(tag: string): number {
  const words = tag.split(' ');
  const count = parseInt(words[words.length - 1]!, 10);
  return COUNTED.has(words[0]!) && !Number.isNaN(count) ? count : 0;
}

function fallback<R>(bytes: Buffer, known: ResultField[] | undefined, parsers: Parsers): Reply<R> {
  const all: messages.BackendMessage[] = [];
  new protocol.Parser().parse(bytes, (m) => all.push(m));
  const error = all.find((m) => m instanceof messages.DatabaseError);
  if (error) throw error;
  const described = all.find((m): m is messages.RowDescriptionMessage => m instanceof messages.RowDescriptionMessage);
  const fields = described
    ? described.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID, parse: parsers[f.dataTypeID] ?? (types.parsers as Parsers)[f.dataTypeID] }))
    : known;
  // parseResults names a row's columns from a RowDescription: give it the one kept.
  if (!described && known) all.unshift({ name: 'rowDescription', length: 0, fieldCount: known.length, fields: known } as unknown as messages.BackendMessage);
  const result = parse.parseResults(all, parsers, { rowMode: 'object' })[0]!;
  return { rows: result.rows as R[], affectedRows: result.affectedRows ?? 0, fields };
}
