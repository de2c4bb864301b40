import { deriveSubkey, type RecordKeys, type SubkeyPurpose } from '../../crypto/index.js';
import { TOKEN_SCOPES, type TokenScope } from '../../contract/index.js';

/**
 * How many rows' record keys one unlocked session keeps: a few pages of results (a search page is
 * 20 items, a list page 50), so that paging and repeated searches skip the per-row HKDFs. Each
 * entry is 64 bytes of key and a short id: about 128 KiB for a full ring.
 */
export const ROW_KEYS_CACHED = 512;

/** All rings together keep at most this many (~6 MiB): 10,000 cached sessions must not hold 512 each. */
export const ROW_KEYS_CACHED_IN_ALL = 32_768;

/**
 * The keys one unlocked session may use, derived lazily from the vault key. Lives for the
 * requests that unwrapped it and, at most, the auth service's short session cache.
 */
export class KeyRing {
  readonly #vaultKey: Buffer;
  readonly #subkeys = new Map<SubkeyPurpose, Buffer>();
  /** Recently used rows' record keys, least recently used first; memory only, never written. */
  readonly #rowKeys = new Map<string, RecordKeys>();
  /** Only a ring the session cache holds keeps row keys: it is the one that wipes them. */
  #keeping = false;
  /** Row keys kept by all rings. */
  static #kept = 0;

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

  /** From now until {@link dropRowKeys}, keep recently used rows' record keys (the session cache calls this). */
  keepRowKeys(): void {
    this.#keeping = true;
  }

  /** A row's record keys from the ring's small LRU, derived (and kept, if this ring keeps any) on a miss. */
  recordKeys(purpose: SubkeyPurpose, rowKeyId: string, derive: () => RecordKeys): RecordKeys {
    // The purpose cannot contain `|`; the row key id may, so it goes last.
    const k = `${purpose}|${rowKeyId}`;
    let keys = this.#rowKeys.get(k);
    if (keys) {
      this.#rowKeys.delete(k);
      this.#rowKeys.set(k, keys);
      return keys;
    }
    keys = derive();
    if (!this.#keeping) return keys;
    const full = this.#rowKeys.size >= ROW_KEYS_CACHED || KeyRing.#kept >= ROW_KEYS_CACHED_IN_ALL;
    if (full && this.#rowKeys.size === 0) return keys;
    if (full) {
      const [oldest, old] = this.#rowKeys.entries().next().value!;
      this.#rowKeys.delete(oldest);
      wipe(old);
      KeyRing.#kept--;
    }
    this.#rowKeys.set(k, keys);
    KeyRing.#kept++;
    return keys;
  }

  /**
   * Wipes the kept row keys and keeps no more (the session was logged out, revoked or left the
   * session cache). The keys are used only inside one synchronous seal/open, so a request still
   * running on this ring just derives them again.
   */
  dropRowKeys(): void {
    // A request still running on the ring derives keys again but keeps none.
    this.#keeping = false;
    for (const keys of this.#rowKeys.values()) wipe(keys);
    KeyRing.#kept -= this.#rowKeys.size;
    this.#rowKeys.clear();
  }
}

function wipe(keys: RecordKeys): void {
  keys.encKey.fill(0);
  keys.commitKey.fill(0);
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
