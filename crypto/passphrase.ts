import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import { WeakKdfParamsError } from './errors.js';
import { hkdf } from './util.js';

/** Argon2id parameters, stored per user (JSON) so they can be raised later. */
export interface KdfParams {
  alg: 'argon2id';
  memoryKiB: number;
  iterations: number;
  parallelism: number;
  /** base64, exactly 16 bytes once decoded */
  salt: string;
}

/**
 * Hard floor enforced on every derivation, whatever the stored row says
 * (64 MiB and t=3 follow RFC 9106's memory-constrained recommendation; p=1 because the server,
 * not the user, pays for extra lanes).
 */
export const MIN_KDF_PARAMS: Readonly<{ memoryKiB: number; iterations: number; parallelism: number }> = Object.freeze({
  memoryKiB: 65536,
  iterations: 3,
  parallelism: 1,
});

/**
 * Upper bounds: a row edited to absurd values must not be able to exhaust server memory or
 * pin a CPU for minutes (DoS), so these are rejected like weak values.
 */
export const MAX_KDF_PARAMS: Readonly<{ memoryKiB: number; iterations: number; parallelism: number }> = Object.freeze({
  memoryKiB: 1024 * 1024, // 1 GiB
  iterations: 20,
  parallelism: 8,
});

/**
 * Defaults for new accounts and upgrades. 64 MiB / t=4 / p=1 measured ~220 ms per derivation
 * on the idle 2-vCPU Xeon dev box (t=3: ~165 ms, too close to the 150 ms floor of our target;
 * 96 MiB t=3: ~275 ms; 128 MiB t=3: ~370 ms), and ~320-470 ms with the box under load. We spend
 * the extra budget on one more pass rather than more memory so each derivation still costs
 * 64 MiB of RAM (see the concurrency cap below). `bench/crypto.bench.ts` re-measures it.
 */
export const DEFAULT_KDF_PARAMS: Readonly<{ memoryKiB: number; iterations: number; parallelism: number }> = Object.freeze({
  memoryKiB: 65536,
  iterations: 4,
  parallelism: 1,
});

const SALT_BYTES = 16;
const OUT_BYTES = 32;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Fresh parameters for a new passphrase: {@link DEFAULT_KDF_PARAMS} plus a random 16-byte salt. */
export function newKdfParams(): KdfParams {
  return { alg: 'argon2id', ...DEFAULT_KDF_PARAMS, salt: randomBytes(SALT_BYTES).toString('base64') };
}

function checkInt(name: 'memoryKiB' | 'iterations' | 'parallelism', v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new WeakKdfParamsError(`${name} must be an integer`);
  if (v < MIN_KDF_PARAMS[name]) throw new WeakKdfParamsError(`${name} below minimum ${MIN_KDF_PARAMS[name]}`);
  if (v > MAX_KDF_PARAMS[name]) throw new WeakKdfParamsError(`${name} above maximum ${MAX_KDF_PARAMS[name]}`);
  return v;
}

/**
 * Validates stored params and returns the decoded salt. Throws {@link WeakKdfParamsError};
 * never fills in defaults (a missing salt must fail loudly, not derive under a fixed one).
 */
export function validateKdfParams(params: KdfParams): Buffer {
  if (params === null || typeof params !== 'object') throw new WeakKdfParamsError('params missing');
  if (params.alg !== 'argon2id') throw new WeakKdfParamsError('alg must be argon2id');
  checkInt('memoryKiB', params.memoryKiB);
  checkInt('iterations', params.iterations);
  checkInt('parallelism', params.parallelism);
  // Argon2 itself requires m >= 8*p; our minimum already implies it for p <= 8, but check anyway.
  if (params.memoryKiB < 8 * params.parallelism) throw new WeakKdfParamsError('memoryKiB must be >= 8 * parallelism');
  if (typeof params.salt !== 'string' || !BASE64_RE.test(params.salt)) throw new WeakKdfParamsError('salt must be base64');
  const salt = Buffer.from(params.salt, 'base64');
  // Require canonical encoding too, so one salt has exactly one stored representation.
  if (salt.length !== SALT_BYTES || salt.toString('base64') !== params.salt) {
    throw new WeakKdfParamsError(`salt must be exactly ${SALT_BYTES} bytes`);
  }
  return salt;
}

// --- concurrency cap -------------------------------------------------------------------------
// Each derivation allocates memoryKiB (64+ MiB) and occupies a libuv thread; unbounded
// concurrency lets a burst of logins exhaust memory. FIFO so no request starves.

let maxConcurrent = 2;
let active = 0;
const waiters: Array<() => void> = [];

/** Sets how many Argon2id derivations may run at once (default 2). Queued ones start if room opens. */
export function setKdfConcurrency(n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError('KDF concurrency must be an integer >= 1');
  maxConcurrent = n;
  drain();
}

/** Current cap, running count and queue length (for metrics and tests). */
export function kdfStats(): { max: number; active: number; queued: number } {
  return { max: maxConcurrent, active, queued: waiters.length };
}

function drain(): void {
  while (active < maxConcurrent && waiters.length > 0) {
    active++;
    waiters.shift()!();
  }
}

/**
 * Runs one memory-hard derivation (Argon2id here, age's scrypt in `age-scrypt.ts`) inside the
 * shared cap, so that logins and export passphrases together never exceed `KDF_CONCURRENCY`.
 */
export async function withKdfSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (active < maxConcurrent && waiters.length === 0) {
    active++;
  } else {
    // drain() increments `active` on our behalf before resolving, so the slot is handed over
    // atomically and a newcomer cannot jump the queue.
    await new Promise<void>((resolve) => waiters.push(resolve));
  }
  try {
    return await fn();
  } finally {
    active--;
    drain();
  }
}

/**
 * Derives the passphrase wrapping key: HKDF-SHA256(Argon2id(passphrase, params) raw 32 bytes,
 * info "cv1|passphrase-key"). Validates params first (throws {@link WeakKdfParamsError}).
 *
 * The passphrase is NFC-normalised so the same passphrase typed on macOS (often NFD) and
 * elsewhere derives the same key (RFC 8265 OpaqueString does the same).
 * At most {@link kdfStats}().max derivations run at once; the rest wait in FIFO order.
 */
export async function derivePassphraseKey(passphrase: string, params: KdfParams): Promise<Buffer> {
  const salt = validateKdfParams(params);
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new TypeError('passphrase must be a non-empty string');
  const pw = Buffer.from(passphrase.normalize('NFC'), 'utf8');
  try {
    const raw = await withKdfSlot(() =>
      argon2.hash(pw, {
        type: argon2.argon2id,
        memoryCost: params.memoryKiB,
        timeCost: params.iterations,
        parallelism: params.parallelism,
        salt,
        hashLength: OUT_BYTES,
        raw: true,
      }),
    );
    const key = hkdf(raw, 'cv1|passphrase-key');
    raw.fill(0);
    return key;
  } finally {
    pw.fill(0);
  }
}
