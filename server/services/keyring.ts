import { deriveSubkey, type SubkeyPurpose } from '../../crypto/index.js';
import { TOKEN_SCOPES, type TokenScope } from '../../contract/index.js';

/**
 * The keys one unlocked request may use, derived lazily from the vault key. Lives only for the
 * request that unwrapped it.
 */
export class KeyRing {
  readonly #vaultKey: Buffer;
  readonly #subkeys = new Map<SubkeyPurpose, Buffer>();

  constructor(vaultKey: Buffer) {
    this.#vaultKey = vaultKey;
  }

  /** The raw vault key: only for re-wrapping (passphrase change, new session). */
  get vaultKey(): Buffer {
    return this.#vaultKey;
  }

  subkey(purpose: SubkeyPurpose): Buffer {
    let key = this.#subkeys.get(purpose);
    if (!key) {
      key = deriveSubkey(this.#vaultKey, purpose);
      this.#subkeys.set(purpose, key);
    }
    return key;
  }
}

/** Who is asking, with their unlocked keys. Attached to a request by the session hook. */
export interface SessionContext {
  userId: string;
  sessionId: string;
  email: string;
  keys: KeyRing;
  /** Set when the request came with a personal API token: what it may do (see http/token-scope.ts). */
  apiToken?: { id: string; scopes: readonly TokenScope[] };
}

export { TOKEN_SCOPES, type TokenScope };
