import type { QuantitySample, RecordInput } from '../../../integrations/types.js';
import type { AccessTokenSource } from '../../../integrations/epic/index.js';
import { OAuthError, type OAuthProvider } from '../../../integrations/oauth/index.js';

export type Provider = 'epic' | 'google_health';
export const PROVIDERS: readonly Provider[] = ['epic', 'google_health'];

/** What is sealed under SERVER_KEY per user and provider: the refresh token and launch context. */
export interface StoredGrant {
  refreshToken?: string;
  endpoint?: string;
  patientId?: string;
  scope?: string;
}

export interface AccessToken {
  token: string;
  expiresAt: number;
}

/** The browser-held, sealed state of one connect redirect. */
export interface ConnectFlow extends Record<string, unknown> {
  state: string;
  nonce: string;
  verifier: string;
  userId: string;
  endpoint?: string;
}

export interface SyncSink {
  records(batch: RecordInput[]): Promise<void>;
  samples(batch: QuantitySample[]): Promise<void>;
}

/** One adapter per provider (Actual Budget's bank adapters); protocol details stay in integrations/. */
export interface Connector {
  readonly provider: Provider;
  /** Shown in messages a person reads ("Epic asked you to sign in again"). */
  readonly label: string;
  /**
   * Whether revoking one refresh token leaves this user's other grants to the app alive (Epic:
   * each token is its own grant). Where revoking one ends them all (Google: one grant per user
   * and client), a replaced grant is left to the provider rather than revoked with the new one.
   */
  readonly revokesSingleGrant: boolean;
  configured(): boolean;
  /** Endpoints a user may pick (Epic: EPIC_FHIR_BASE_URLS); empty when the provider has one. */
  endpoints(): string[];
  begin(flow: Omit<ConnectFlow, 'state' | 'nonce' | 'verifier'>): Promise<{ url: string; flow: ConnectFlow }>;
  /** `callback` is the provider's redirect query, its `state` already matched against `flow`. */
  finish(callback: URLSearchParams, flow: ConnectFlow): Promise<{ grant: StoredGrant; access: AccessToken }>;
  refresh(grant: StoredGrant): Promise<{ grant: StoredGrant; access: AccessToken }>;
  revoke(grant: StoredGrant): Promise<void>;
  /** `signal` aborts when the owner disconnects mid-sync: the sync stops where it is. */
  sync(
    grant: StoredGrant,
    tokens: AccessTokenSource,
    cursor: unknown,
    sink: SyncSink,
    signal?: AbortSignal,
  ): Promise<{
    cursor: unknown;
    counts: Record<string, number>;
    skipped: Record<string, string>;
    /** Set when part of the data could not be read this time: a sentence the person sees. */
    incomplete?: string;
  }>;
}

/** The refresh token was refused (revoked, expired or never granted): the user must connect again. */
export class ReauthRequiredError extends Error {
  constructor(label: string) {
    super(`${label} asked you to sign in again. Connect again to resume syncing.`);
  }
}

export const expiresAt = (expiresIn: number | undefined) => Date.now() + Math.max(60, expiresIn ?? 3600) * 1000;

/**
 * Trades a stored refresh token for an access token. Providers rotate the refresh token only
 * sometimes, so the old one is kept when no new one comes back; a refused grant means the user
 * must connect again.
 */
export async function refreshGrant(provider: OAuthProvider, grant: StoredGrant & { refreshToken: string }, label: string) {
  try {
    const t = await provider.refresh(grant.refreshToken);
    return { grant: { ...grant, refreshToken: t.refresh_token ?? grant.refreshToken }, access: { token: t.access_token, expiresAt: expiresAt(t.expires_in) } };
  } catch (err) {
    if (err instanceof OAuthError && (err.code === 'invalid_grant' || err.code === 'invalid_client')) throw new ReauthRequiredError(label);
    throw err;
  }
}
