import { AppError } from '../errors.js';
import type { SessionContext } from './keyring.js';

/**
 * Which unlocked sessions a revocation ends: one (`sessionId`; an API token's is `token:<id>`),
 * or a user's browser sessions but `keep`, and with `tokens` the user's API tokens as well.
 */
export type ForgetMatch = { sessionId?: string; userId?: string; keep?: string; tokens?: boolean };

/** What in-flight work of a revoked session or token is aborted with; its status and code are what the client gets. */
export class SessionEndedError extends AppError {}

const ended = (token: boolean): SessionEndedError =>
  token
    ? new SessionEndedError(401, 'invalid_token', 'This API token was revoked; nothing more was saved with it.')
    : new SessionEndedError(401, 'session_ended', 'This session was signed out or ended; nothing more was saved with it. Sign in again.');

export const isSessionEnded = (reason: unknown): reason is SessionEndedError => reason instanceof SessionEndedError;

interface Entry {
  userId: string;
  sessionId: string;
  token: boolean;
  abort: (reason: SessionEndedError) => void;
}

/**
 * Work that runs on a session's unlocked keys after its request was authenticated (a chat answer
 * streams for minutes, then saves). Revoking the session or token must stop it: otherwise a
 * signed-out browser or a deleted token keeps writing to the vault. {@link revoke} is called for
 * every revocation on this instance and for those other instances announce (AuthService.forgetLocal).
 */
export class SessionWork {
  readonly #live = new Set<Entry>();

  /** Registers work until the returned function is called; a revocation aborts `controller` with a {@link SessionEndedError}. */
  track(session: SessionContext, controller: AbortController): () => void {
    const entry: Entry = { userId: session.userId, sessionId: session.sessionId, token: !!session.apiToken, abort: (reason) => controller.abort(reason) };
    this.#live.add(entry);
    return () => this.#live.delete(entry);
  }

  /** Aborts the matching work; how many were running. */
  revoke(match: ForgetMatch): number {
    let n = 0;
    for (const e of [...this.#live]) {
      const hit = match.sessionId ? e.sessionId === match.sessionId : e.userId === match.userId && e.sessionId !== match.keep && (!e.token || !!match.tokens);
      if (!hit) continue;
      this.#live.delete(e);
      e.abort(ended(e.token));
      n++;
    }
    return n;
  }

  get size(): number {
    return this.#live.size;
  }
}
