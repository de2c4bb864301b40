/**
 * Small pure helpers for the FHIR transformer: safe access to untyped JSON, hashing,
 * base64 and HTML-to-text. No Node-only APIs, so the transformer also runs in a browser or worker.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

/** A parsed JSON object (FHIR resources and their elements). */
export type Json = Record<string, unknown>;

/** True for a plain JSON object (not null, not an array). */
export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A lookup table without a prototype: a code, system or key taken from input ("constructor",
 * "toString", "__proto__") finds nothing instead of an Object.prototype member.
 */
export function table<T>(entries: Record<string, T>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, entries);
}

/** `v` as an object, or undefined. */
export function obj(v: unknown): Json | undefined {
  return isObject(v) ? v : undefined;
}

/** `v` as an array of objects; a single object becomes a one-element array (lenient input). */
export function objs(v: unknown): Json[] {
  if (Array.isArray(v)) return v.filter(isObject);
  return isObject(v) ? [v] : [];
}

/** `v` as a trimmed non-empty string, or undefined. */
export function str(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

/** `v` as a finite number, or undefined. FHIR decimals sometimes arrive as strings. */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(v.trim())) return Number(v);
  return undefined;
}

/** `v` as an array of non-empty strings. */
export function strs(v: unknown): string[] {
  if (!Array.isArray(v)) return str(v) ? [str(v) as string] : [];
  return v.map(str).filter((s): s is string => s !== undefined);
}

/**
 * True when `v` nests objects and arrays more than `max` levels deep (the value itself is level
 * 1). Walked with a stack, not recursion, in one pass that stops at the first level too deep: a
 * value that nests thousands of levels is what this guards the recursive walks against.
 */
export function nestsDeeperThan(v: unknown, max: number): boolean {
  const values: object[] = [];
  const levels: number[] = [];
  if (typeof v === 'object' && v !== null) {
    values.push(v);
    levels.push(1);
  }
  while (values.length) {
    const x = values.pop() as object;
    const level = levels.pop() as number;
    if (level > max) return true;
    for (const child of Array.isArray(x) ? x : Object.values(x)) {
      if (typeof child === 'object' && child !== null) {
        values.push(child as object);
        levels.push(level + 1);
      }
    }
  }
  return false;
}

/**
 * JSON with object keys sorted, so equal content hashes equal whatever the key order a server
 * wrote (servers reorder keys between exports).
 */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** Hex SHA-256 of a string's UTF-8 bytes. */
export function sha256Hex(s: string): string {
  return bytesToHex(sha256(utf8ToBytes(s)));
}

/** Decodes base64 (whitespace tolerated), or returns undefined when it is not valid base64. */
export function decodeBase64(data: string): Uint8Array | undefined {
  const clean = data.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) return undefined;
  try {
    const bin = atob(clean);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

/** Decodes bytes as text with the charset from a content type, falling back to UTF-8. */
export function decodeText(bytes: Uint8Array, contentType: string | undefined): string {
  const charset = /charset\s*=\s*"?([\w.:-]+)"?/i.exec(contentType ?? '')?.[1];
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    // An unknown charset label throws; UTF-8 is what nearly every server really sends.
    return new TextDecoder('utf-8').decode(bytes);
  }
}

const ENTITIES = table<string>({
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  ndash: '–',
  mdash: '—',
  deg: '°',
  micro: 'µ',
  plusmn: '±',
  le: '≤',
  ge: '≥',
});

/**
 * Readable text from HTML or XHTML: scripts and styles removed, block ends become line breaks,
 * tags dropped, entities decoded. Not a sanitiser; the result is only ever used as plain text.
 */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style|head)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|li|tr|h[1-6]|table|section|article|ul|ol|pre|blockquote)\s*>/gi, '\n')
    .replace(/<(td|th)\b[^>]*>/gi, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return Number.isFinite(cp) && cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    })
    .split('\n')
    .map((l) => l.replace(/[ \t\f\v\r]+/g, ' ').trim())
    .filter((l, i, a) => l !== '' || (i > 0 && a[i - 1] !== ''))
    .join('\n')
    .trim();
}

/** Joins sentence fragments into one paragraph, each ending with a full stop. */
export function sentences(parts: Array<string | undefined | false | null>): string {
  return parts
    .filter((p): p is string => typeof p === 'string' && p.trim() !== '')
    .map((p) => {
      const t = p.trim();
      return /[.!?:]$/.test(t) ? t : `${t}.`;
    })
    .join(' ');
}

/** Formats a number as a person reads it: no float noise such as 20.094140000000003. */
export function formatNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return String(Number(n.toPrecision(12)));
}

/**
 * Readable text of an HL7 CDA document (C-CDA, the XML most EHRs attach to DocumentReference):
 * the document title, then each section's title and narrative block. Structured entries are
 * coded attributes that only a CDA parser could make sense of, so they are left out.
 * Returns undefined for XML that is not CDA.
 */
export function cdaToText(xml: string): string | undefined {
  if (!/<ClinicalDocument\b/.test(xml)) return undefined;
  const out: string[] = [];
  const re = /<title\b[^>]*>([\s\S]*?)<\/title\s*>|<text\b[^>]*>([\s\S]*?)<\/text\s*>/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const t = htmlToText(m[1] ?? m[2] ?? '');
    if (t !== '') out.push(m[1] !== undefined ? `\n${t}` : t);
  }
  const text = out.join('\n').trim();
  return text === '' ? undefined : text;
}
