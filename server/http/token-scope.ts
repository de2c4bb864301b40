import type { FastifyRequest } from 'fastify';
import { forbidden } from '../errors.js';
import type { SessionContext, TokenScope } from '../services/keyring.js';

/**
 * Routes a personal API token may never use, whatever its scopes: everything that manages the
 * account's ways in (passphrase, recovery key, sessions, sign-in links, invites, tokens
 * themselves), the account's security activity, deleting the account, and the server's models
 * (pull, delete, defaults: an admin's browser session only). `GET /api/auth/me` is open to a token
 * of any scope so a script can check whose token it holds, and `GET /api/models` so a chat-only
 * token can pick a model.
 */
const ACCOUNT_ONLY = [
  /^\/api\/auth(\/|$)/,
  /^\/api\/invites(\/|$)/,
  /^\/api\/tokens(\/|$)/,
  /^\/api\/account(\/|$)/,
  /^\/api\/models(\/|$)/,
  /^\/api\/activity(\/|$)/,
];
const OPEN_TO_TOKENS = new Set(['GET /api/auth/me', 'GET /api/models']);
/** Routes that run the model: the `chat` scope, whatever their method. */
const CHAT_ROUTES = new Set(['POST /api/chat', 'POST /api/chats/:id/regenerate']);
/**
 * Routes that are POSTs only because they take a body (a passphrase, a choice of sections), but
 * whose answer is vault content: `read`, like a GET. They store nothing in the vault (only the
 * audit log's `export` / `summary_created`), so `write` is not needed; judged by method alone they
 * let an upload-only token take the whole vault, encrypted to a passphrase of its own choosing.
 */
const READ_ROUTES = new Set(['POST /api/export', 'POST /api/summary']);
/**
 * Writes whose answer is what was stored before, not only what the request sent: an item after a
 * PATCH or a restore, a hand entry after its PUT, a folder or chat after a rename, the merged
 * preferences, the vault's embedding counts after a backfill. `read` as well as `write`, or a
 * write-only token (an upload script's) could read any item it can name by sending an empty PATCH.
 */
const READ_WRITE_ROUTES = new Set([
  'PATCH /api/items/:id',
  'POST /api/items/:id/restore',
  'POST /api/items/:id/versions/:version/restore',
  'PUT /api/records/manual/:id',
  'PATCH /api/folders/:id',
  'PATCH /api/chats/:id',
  'PUT /api/preferences',
  'POST /api/embeddings/backfill',
]);
const READ_METHODS = new Set(['GET', 'HEAD']);

const ANY: readonly TokenScope[] = [];
const READ: readonly TokenScope[] = ['read'];
const WRITE: readonly TokenScope[] = ['write'];
const CHAT: readonly TokenScope[] = ['chat'];
const READ_WRITE: readonly TokenScope[] = ['read', 'write'];

/** The scopes a route needs from a token (all of them), or null when tokens may not use it at all. */
export function requiredScopes(method: string, route: string): readonly TokenScope[] | null {
  const key = `${method} ${route}`;
  if (OPEN_TO_TOKENS.has(key)) return ANY;
  if (ACCOUNT_ONLY.some((re) => re.test(route))) return null;
  if (CHAT_ROUTES.has(key)) return CHAT;
  if (READ_ROUTES.has(key)) return READ;
  if (READ_WRITE_ROUTES.has(key)) return READ_WRITE;
  return READ_METHODS.has(method) ? READ : WRITE;
}

/**
 * Refuses a token-authenticated request outside its scopes (403). Decided on the route the router
 * matched, so encoded or trailing-slash spellings of a path are judged as the route they reach;
 * unmatched paths fall through to the 404 handler.
 */
export function enforceTokenScope(req: FastifyRequest, session: SessionContext): void {
  const token = session.apiToken;
  if (!token) return;
  const route = req.routeOptions.url;
  if (route === undefined) return;
  const needed = requiredScopes(req.method, route);
  if (needed === null) throw forbidden('API tokens cannot manage the account; sign in in the browser to do this.', 'token_not_allowed');
  const missing = needed.filter((scope) => !token.scopes.includes(scope));
  if (missing.length)
    throw forbidden(`This token lacks the ${missing.map((s) => `"${s}"`).join(' and ')} scope${missing.length > 1 ? 's' : ''}.`, 'insufficient_scope');
}

/** The token of `Authorization: Bearer <token>`, or undefined when no bearer credentials were sent. */
export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer[ ]+(\S+)[ ]*$/i.exec(h);
  return m ? m[1] : h.toLowerCase().startsWith('bearer') ? '' : undefined;
}
