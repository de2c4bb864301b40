import { describe, expect, it } from 'vitest';
import { requiredScopes } from './token-scope.js';

const requiredScope = (method: string, route: string) => requiredScopes(method, route)?.join('+') ?? null;

describe('requiredScope', () => {
  it('maps reads, writes and model runs to their scopes', () => {
    expect(requiredScope('GET', '/api/items')).toBe('read');
    expect(requiredScope('HEAD', '/api/files/:id')).toBe('read');
    expect(requiredScope('POST', '/api/items')).toBe('write');
    expect(requiredScope('PATCH', '/api/items/:id')).toBe('read+write');
    expect(requiredScope('DELETE', '/api/chats/:id')).toBe('write');
    expect(requiredScope('POST', '/api/chat')).toBe('chat');
    expect(requiredScope('POST', '/api/chats/:id/regenerate')).toBe('chat');
    // Open to a token of any scope: whose token it is, and which models a chat may pick.
    expect(requiredScope('GET', '/api/auth/me')).toBe('');
  });

  it('needs read for the POSTs whose answer is vault content (export, patient summary)', () => {
    expect(requiredScope('POST', '/api/export')).toBe('read');
    expect(requiredScope('POST', '/api/summary')).toBe('read');
    // Restoring an export adds to the vault: still a write.
    expect(requiredScope('POST', '/api/import/export')).toBe('write');
  });

  it('needs read as well as write for the writes that answer with what was stored', () => {
    expect(requiredScope('PUT', '/api/records/manual/:id')).toBe('read+write');
    expect(requiredScope('PATCH', '/api/chats/:id')).toBe('read+write');
    // The merged preferences, and how many items the vault holds.
    expect(requiredScope('PUT', '/api/preferences')).toBe('read+write');
    expect(requiredScope('POST', '/api/embeddings/backfill')).toBe('read+write');
    // What these answer is only what the request sent, or nothing.
    expect(requiredScope('POST', '/api/records/manual')).toBe('write');
    expect(requiredScope('DELETE', '/api/items/:id')).toBe('write');
  });

  it('covers history, folders and trash like any other vault data', () => {
    expect(requiredScope('GET', '/api/items/:id/versions')).toBe('read');
    expect(requiredScope('GET', '/api/items/:id/versions/:version')).toBe('read');
    expect(requiredScope('GET', '/api/items/:id/versions/:version/diff')).toBe('read');
    expect(requiredScope('POST', '/api/items/:id/versions/:version/restore')).toBe('read+write');
    expect(requiredScope('GET', '/api/folders')).toBe('read');
    expect(requiredScope('POST', '/api/folders')).toBe('write');
    expect(requiredScope('PATCH', '/api/folders/:id')).toBe('read+write');
    expect(requiredScope('DELETE', '/api/folders/:id')).toBe('write');
    expect(requiredScope('GET', '/api/trash')).toBe('read');
    expect(requiredScope('POST', '/api/items/:id/restore')).toBe('read+write');
    expect(requiredScope('DELETE', '/api/trash/:id')).toBe('write');
    expect(requiredScope('DELETE', '/api/trash')).toBe('write');
  });

  it("keeps the server's models from tokens, except the list a chat picks from", () => {
    for (const [m, r] of [
      ['POST', '/api/models/pull'],
      ['DELETE', '/api/models/:name'],
      ['PUT', '/api/models/defaults'],
    ] as const) {
      expect(requiredScope(m, r), `${m} ${r}`).toBeNull();
    }
    expect(requiredScope('GET', '/api/models')).toBe('');
  });

  it('keeps every account-management route from tokens', () => {
    for (const [m, r] of [
      ['POST', '/api/auth/passphrase'],
      ['POST', '/api/auth/recovery-key'],
      ['GET', '/api/auth/sessions'],
      ['DELETE', '/api/auth/sessions/:id'],
      ['POST', '/api/auth/google/link'],
      ['POST', '/api/tokens'],
      ['GET', '/api/tokens'],
      ['DELETE', '/api/tokens/:id'],
      ['POST', '/api/invites'],
      ['GET', '/api/invites'],
      ['DELETE', '/api/invites/:id'],
      ['GET', '/api/invites/access'],
      ['DELETE', '/api/account'],
      ['GET', '/api/activity'],
      ['POST', '/api/auth/sessions/revoke-others'],
    ] as const) {
      expect(requiredScope(m, r), `${m} ${r}`).toBeNull();
    }
    // Prefixes are whole path segments: a future /api/accounts-report is not caught by /api/account.
    expect(requiredScope('GET', '/api/accountsx')).toBe('read');
  });
});
