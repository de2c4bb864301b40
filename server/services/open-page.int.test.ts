import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { dbTargets, openTestDatabase } from '../../test-support/server/harness.js';
import { asBuffer } from '../db/index.js';
import { boundTexts } from './page-text.js';
import { AuditRepository } from '../repositories/audit.repository.js';
import { INLINE_CIPHERTEXT_BYTES, ItemsRepository } from '../repositories/items.repository.js';
import { SessionsRepository } from '../repositories/sessions.repository.js';
import { UsersRepository } from '../repositories/users.repository.js';
import { AuthService } from './auth.service.js';
import { ciphertextBatches, ItemsService, type Item } from './items.service.js';
import type { SessionContext } from './keyring.js';
import { SearchService } from './search.service.js';

const BOUND = 64 * 1024;

describe('ciphertextBatches', () => {
  it('keeps page order, fills each batch up to the bound, and gives a row over it a batch of its own', () => {
    const rows = [10, 20, 30, 100, 5, 5, 60, 1].map((ciphertext_bytes, i) => ({ i, ciphertext_bytes }));
    const batches = ciphertextBatches(rows, 60);
    expect(batches.map((b) => b.map((x) => x.ciphertext_bytes))).toEqual([[10, 20, 30], [100], [5, 5], [60], [1]]);
    expect(batches.flat().map((x) => x.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

describe.each(dbTargets())('opening a page in bounded batches of ciphertext (%s)', (target) => {
  let dispose: () => Promise<void>;
  let session: SessionContext;
  let repo: ItemsRepository;
  let items: ItemsService;
  const whole = new Map<string, Item>();
  /** Ciphertext bytes and rows of each batch fetched. */
  const batches: Array<{ bytes: number; rows: number }> = [];

  beforeAll(async () => {
    const opened = await openTestDatabase(target);
    dispose = opened.dispose;
    const auth = new AuthService(new UsersRepository(opened.db), new SessionsRepository(opened.db), new AuditRepository(opened.db), {
      sessionTtlMs: 3_600_000,
    });
    session = (await auth.register(`open-page-${target}@example.com`, 'a long test passphrase')).session.context;
    repo = new ItemsRepository(opened.db);
    items = new ItemsService(repo, { ciphertextBatchBytes: BOUND });
    // Sizes from a few hundred bytes to 40 KB, and one item larger than the bound on its own.
    const sizes = Array.from({ length: 30 }, (_, n) => 300 + ((n * 7919) % 40_000));
    sizes.splice(11, 0, 150_000);
    const created = await items.createMany(
      session,
      sizes.map((size, n) => ({ kind: 'note', source: 'manual', title: `item ${n}`, text: `wombat ${n} ${'q'.repeat(size)}` })),
    );
    for (const c of created) whole.set(c.item.id, c.item);
    const fetch = repo.withCiphertexts.bind(repo);
    vi.spyOn(repo, 'withCiphertexts').mockImplementation(async (userId, ids) => {
      const rows = await fetch(userId, ids);
      batches.push({ bytes: rows.reduce((n, r) => n + asBuffer(r.ciphertext).length, 0), rows: rows.length });
      return rows;
    });
  });
  afterEach(() => {
    batches.length = 0;
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await dispose?.();
  });

  const expectBounded = () => {
    expect(batches.length).toBeGreaterThan(2);
    for (const b of batches) expect(b.rows === 1 || b.bytes <= BOUND, JSON.stringify(b)).toBe(true);
    expect(batches.some((b) => b.rows === 1 && b.bytes > BOUND)).toBe(true);
  };

  it('selects the list page with its small ciphertexts only, and every size', async () => {
    const rows = await repo.list({ userId: session.userId, deleted: false, limit: 100 });
    expect(rows).toHaveLength(31);
    const sealed = new Map((await repo.getMany(session.userId, [...whole.keys()])).map((r) => [r.id, asBuffer(r.ciphertext)]));
    for (const r of rows) {
      const stored = sealed.get(r.id)!;
      expect(Number(r.ciphertext_bytes)).toBe(stored.length);
      if (stored.length <= INLINE_CIPHERTEXT_BYTES) expect(asBuffer(r.ciphertext!).equals(stored)).toBe(true);
      else expect(r.ciphertext).toBeNull();
    }
    expect(rows.some((r) => r.ciphertext) && rows.some((r) => !r.ciphertext)).toBe(true);
  });

  it('lists every item as before, no batch over the bound but a single larger row', async () => {
    const page = await items.list(session, { limit: 100, text: 'full' });
    expect(page.items).toHaveLength(31);
    expect(page.items).toEqual(boundTexts(page.items.map((i) => whole.get(i.id)!)));
    expect(page.items.every((i) => i.text === whole.get(i.id)!.text)).toBe(true);
    expectBounded();
    batches.length = 0;
    const previews = await items.list(session, { limit: 100, text: 'preview' });
    expect(previews.items).toEqual(
      boundTexts(
        previews.items.map((i) => whole.get(i.id)!),
        'preview',
      ),
    );
    expectBounded();
  });

  it('answers a search page as before, in bounded batches', async () => {
    const search = new SearchService(repo, items);
    const results = await search.explain(session, { q: 'wombat', limit: 50, text: 'full' });
    expect(results).toHaveLength(31);
    expect(results.map((r) => r.item)).toEqual(results.map((r) => whole.get(r.item.id)!));
    expect(results.map((r) => r.item.id)).toEqual((await search.search(session, 'wombat', 50)).map((r) => r.item.id));
    expectBounded();
  });

  it('answers a page of small items with its one query, and fetches the large ones of a page in one batch', async () => {
    const plain = new ItemsService(repo);
    const small = [...whole.values()].filter((i) => i.text.length < 10_000).map((i) => i.id);
    const onlySmall = await plain.openPage(session, await repo.pageRows(session.userId, small), { text: 'full' });
    expect(onlySmall.map((i) => i?.id).sort()).toEqual([...small].sort());
    expect(batches).toHaveLength(0);
    const page = await plain.list(session, { limit: 10, text: 'full' });
    expect(page.items).toHaveLength(10);
    expect(batches).toHaveLength(1);
    batches.length = 0;
    const results = await new SearchService(repo, plain).explain(session, { q: 'wombat', limit: 10, text: 'full' });
    expect(results).toHaveLength(10);
    expect(batches).toHaveLength(1);
  });

  it('leaves out a row deleted between the page and its batch, keeping the cursor', async () => {
    const doomed = new ItemsService(repo);
    // Every row as large (fetched apart), so the row's batch comes after the page.
    const list = repo.list;
    vi.spyOn(repo, 'list').mockImplementation(async (f) => (await list.call(repo, f)).map((r) => ({ ...r, ciphertext: null })));
    const first = await repo.list({ userId: session.userId, deleted: false, limit: 3 });
    const fetch = repo.withCiphertexts;
    const gone = first[1]!.id;
    vi.spyOn(repo, 'withCiphertexts').mockImplementationOnce(async (userId, ids) => (await fetch.call(repo, userId, ids)).filter((r) => r.id !== gone));
    const page = await doomed.list(session, { limit: 2, text: 'full' });
    expect(page.items.map((i) => i.id)).toEqual([first[0]!.id]);
    expect(page.nextCursor).not.toBeNull();
    const next = await doomed.list(session, { limit: 2, cursor: page.nextCursor!, text: 'full' });
    expect(next.items[0]!.id).toBe(first[2]!.id);
  });
});
