/**
 * Thrown whenever a ciphertext cannot be authenticated or parsed: wrong key, wrong AAD,
 * tampering, truncation or an unknown format version.
 *
 * Callers must not be able to tell those cases apart (that would be an oracle), so the message
 * is fixed-ish and never contains key material, plaintext or ciphertext bytes.
 */
export class DecryptError extends Error {
  /** @param reason a short, constant, non-secret description (e.g. "bad tag"). */
  constructor(reason = 'decryption failed') {
    super(`decryption failed: ${reason}`);
    this.name = 'DecryptError';
  }
}

/**
 * Thrown when stored KDF parameters are weaker than the hard-coded minimum, out of sane bounds,
 * or malformed. Never silently replaced by defaults: an edited database row must not be able to
 * downgrade (or DoS) passphrase derivation.
 */
export class WeakKdfParamsError extends Error {
  /** @param detail which parameter was rejected (never the passphrase). */
  constructor(detail: string) {
    super(`KDF parameters rejected: ${detail}`);
    this.name = 'WeakKdfParamsError';
  }
}

/** Thrown by {@link parseRecoveryKey} for text that is not a well-formed recovery key. */
export class InvalidRecoveryKeyError extends Error {
  /** @param detail what was wrong (length, character, checksum); never echoes the input. */
  constructor(detail: string) {
    super(`invalid recovery key: ${detail}`);
    this.name = 'InvalidRecoveryKeyError';
  }
}
