import { randomBytes } from 'node:crypto';
import { InvalidRecoveryKeyError } from './errors.js';
import { hkdf, KEY_BYTES } from './util.js';

export { InvalidRecoveryKeyError } from './errors.js';

// Crockford base32: no I, L, O, U, so what a person writes down reads back unambiguously.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const DECODE: Record<string, number> = {};
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET[i]!] = i;
// Crockford's lookalike mapping for hand-copied text.
DECODE['O'] = 0;
DECODE['I'] = 1;
DECODE['L'] = 1;

const PREFIX = 'CV1';
/** 256 bits -> 52 base32 symbols (the last one carries 1 bit + 4 zero bits). */
const DATA_SYMBOLS = 52;
/** Checksum symbols (30 bits). */
const CHECK_SYMBOLS = 6;
const TOTAL_SYMBOLS = DATA_SYMBOLS + CHECK_SYMBOLS;

// BCH checksum over GF(32) from BIP-173 (bech32). For inputs under 90 symbols it is
// guaranteed to detect any error touching up to 4 symbols (so every single typo and every
// swap of two symbols), and misses other errors with probability ~2^-30. A truncated hash
// would only make detection probabilistic.
const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
function polymod(values: number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = (((chk & 0x1ffffff) << 5) ^ v) >>> 0;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk = (chk ^ GEN[i]!) >>> 0;
  }
  return chk;
}
// Domain tag (like bech32's human-readable part) so a checksum from another scheme never validates.
const TAG_BYTES = [...Buffer.from('cv1-recovery', 'ascii')];
const TAG = [...TAG_BYTES.map((c) => c >> 5), 0, ...TAG_BYTES.map((c) => c & 31)];

function checksum(data: number[]): number[] {
  const mod = polymod([...TAG, ...data, 0, 0, 0, 0, 0, 0]) ^ 1;
  return Array.from({ length: CHECK_SYMBOLS }, (_, i) => (mod >>> (5 * (CHECK_SYMBOLS - 1 - i))) & 31);
}

function toSymbols(key: Buffer): number[] {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const byte of key) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push((acc >>> bits) & 31);
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out.push((acc << (5 - bits)) & 31);
  return out;
}

function fromSymbols(symbols: number[]): Buffer {
  const out = Buffer.alloc(KEY_BYTES);
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (const s of symbols) {
    acc = (acc << 5) | s;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >>> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
  }
  // Padding bits must be zero so each key has exactly one valid spelling.
  if (acc !== 0) throw new InvalidRecoveryKeyError('non-canonical final character');
  return out;
}

/** Formats a 32-byte key as `CV1-XXXX-XXXX-...-XX` (52 data + 6 checksum symbols). */
export function formatRecoveryKey(key: Uint8Array): string {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) throw new RangeError('recovery key must be 32 bytes');
  const data = toSymbols(Buffer.from(key));
  const all = [...data, ...checksum(data)].map((v) => ALPHABET[v]).join('');
  const groups = all.match(/.{1,4}/g)!;
  return [PREFIX, ...groups].join('-');
}

/**
 * Makes a fresh recovery key: 256 random bits and the text a person writes down
 * (Crockford base32 in dash-separated groups of 4, "CV1-" prefix, 6-symbol BCH checksum).
 */
export function generateRecoveryKey(): { key: Buffer; text: string } {
  const key = randomBytes(KEY_BYTES);
  return { key, text: formatRecoveryKey(key) };
}

/**
 * Parses recovery-key text. Tolerates case, spaces, missing/extra dashes, a missing "CV1" prefix
 * and O->0, I/L->1 confusion. Throws {@link InvalidRecoveryKeyError} on a wrong length, a
 * character outside the alphabet, or a checksum mismatch (the message never echoes the input).
 */
export function parseRecoveryKey(text: string): Buffer {
  if (typeof text !== 'string') throw new InvalidRecoveryKeyError('not a string');
  let s = text
    .normalize('NFKC')
    .toUpperCase()
    .replace(/[\s\-_.–—]+/g, '');
  // Length decides whether a prefix is present: "CV1" is also valid base32.
  if (s.length === TOTAL_SYMBOLS + PREFIX.length) {
    const p = s.slice(0, PREFIX.length).replace(/[IL]/g, '1');
    if (p !== PREFIX) throw new InvalidRecoveryKeyError('unknown prefix');
    s = s.slice(PREFIX.length);
  }
  if (s.length !== TOTAL_SYMBOLS) throw new InvalidRecoveryKeyError(`expected ${TOTAL_SYMBOLS} characters`);
  const values: number[] = [];
  for (const ch of s) {
    const v = DECODE[ch];
    if (v === undefined) throw new InvalidRecoveryKeyError('invalid character');
    values.push(v);
  }
  if (polymod([...TAG, ...values]) !== 1) throw new InvalidRecoveryKeyError('checksum mismatch');
  return fromSymbols(values.slice(0, DATA_SYMBOLS));
}

/** Key that wraps the vault key for recovery: HKDF(recovery key, info "cv1|recovery"). */
export function recoveryWrappingKey(key: Buffer): Buffer {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) throw new RangeError('recovery key must be 32 bytes');
  return hkdf(key, 'cv1|recovery');
}
