import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomKey } from '../../crypto/index.js';
import { migrateToLatest, openDatabase, type Database } from '../db/index.js';
import { JobsRepository } from '../repositories/jobs.repository.js';
import { KeyRing, type SessionContext } from '../services/keyring.js';
import { createPgDatabase, dbTargets, insertBareUser } from '../../test-support/server/harness.js';
import { ImportFiles } from './encrypted-file.js';
import { JobRunner, type JobContext } from './runner.js';

// Two runners (as two app instances would hold) on one jobs table: a job both are handed runs on
// exactly one of them, and a job one of them gave back at shutdown is resumed by the other.

describe.each(dbTargets())('job leases between two runners (%s)', (target) => {
  let db: Database;
  let dispose: () => Promise<void> = async () => {};
  let dir: string;
  const userId = randomUUID();
  const keys = new KeyRing(randomKey());
  const session: SessionContext = { userId, sessionId: randomUUID(), email: 'lease@example.com', keys };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cv-lease-'));
    if (target === 'postgres') {
      const pg = await createPgDatabase();
      db = (await openDatabase({ url: pg.url })).db;
      dispose = pg.dispose;
    } else {
      db = (await openDatabase({})).db;
    }
    await migrateToLatest(db);
    await insertBareUser(db, userId, session.email);
  }, 60_000);

  afterAll(async () => {
    await db?.destroy();
    await dispose();
    await rm(dir, { recursive: true, force: true });
  });

  /** A runner whose `test` jobs record where they ran and wait for `gate` before finishing. */
  function runner(name: string, ran: string[], gate: Promise<void>) {
    const r = new JobRunner(new JobsRepository(db), ImportFiles.onDisk(dir), pino({ level: 'silent' }), {
      maxConcurrent: 2,
      perUser: 1,
      progressMs: 50,
      maxAttempts: 3,
      resumeWithinMs: 3_600_000,
      leaseMs: 60_000,
      instanceId: name,
    });
    r.register('test', {
      run: async (ctx: JobContext) => {
        ran.push(name);
        ctx.progress({ done: 1, total: 2, unit: 'records' });
        await Promise.race([gate, new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)))]);
        ctx.count('things', 1);
      },
    });
    return r;
  }

  async function newJob(): Promise<string> {
    const id = randomUUID();
    await new JobsRepository(db).insert({ id, userId, kind: 'test', progress: { done: 0, unit: 'records' }, inputRef: null, inputFormat: null });
    return id;
  }

  const row = (id: string) => db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
    const end = Date.now() + 15_000;
    while (!(await probe())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('runs a job both runners are handed on exactly one of them', async () => {
    const ran: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const a = runner('A', ran, gate);
    const b = runner('B', ran, gate);
    const id = await newJob();
    a.submit({ id, userId }, keys);
    b.submit({ id, userId }, keys);
    await b.resumeFor(session);
    await until('one runner to start it', async () => ran.length > 0);
    // Both claims have been answered once the row is running with one owner; give the loser's
    // claim its round trip by waiting until neither runner still has it queued or starting.
    await until('the claim to settle', async () => (await row(id)).lease_owner !== null && a.isRunning(id) !== b.isRunning(id));
    open();
    await until('the job to finish', async () => (await row(id)).status === 'done');
    expect(ran).toHaveLength(1);
    const r = await row(id);
    expect(r.attempts).toBe(1);
    expect(r.lease_owner).toBe(ran[0]);
    await Promise.all([a.close(), b.close()]);
  });

  it('resumes on the other runner a job given back at shutdown, only after the lease is released', async () => {
    const ran: string[] = [];
    const never = new Promise<void>(() => {});
    const a = runner('A', ran, never);
    const id = await newJob();
    a.submit({ id, userId }, keys);
    await until('A to start it', async () => ran.length === 1);
    await until('A to hold the lease', async () => (await row(id)).lease_owner === 'A');
    let open!: () => void;
    const b = runner('B', ran, new Promise<void>((r) => (open = r)));
    // A holds a live lease: B's signed-in request must not take the job.
    await b.resumeFor(session);
    expect(b.isRunning(id)).toBe(false);
    await a.close();
    const released = await row(id);
    expect(released.status).toBe('running');
    expect(await sql<{ over: boolean }>`select lease_until <= now() as over from jobs where id = ${id}`.execute(db).then((q) => q.rows[0]!.over)).toBe(true);
    // resumeFor looks at most once a second per owner.
    await until('B to resume it', async () => {
      await b.resumeFor(session);
      return ran.length === 2;
    });
    open();
    await until('the job to finish', async () => (await row(id)).status === 'done');
    expect(ran).toEqual(['A', 'B']);
    const r = await row(id);
    expect(r.attempts).toBe(2);
    expect(r.lease_owner).toBe('B');
    await b.close();
  });
});
