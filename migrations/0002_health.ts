import { sql, type Kysely } from 'kysely';

/**
 * Health imports: a table-backed job queue and encrypted day chunks of time series.
 * In clear: a job's kind, status, progress and per-type counts, and a chunk's type code and local
 * date (the minimum needed to answer a date-range query). Unit, samples and daily statistics
 * live inside the chunk's ciphertext.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table jobs (
      id uuid primary key,
      user_id uuid not null references users(id) on delete cascade,
      kind text not null,
      status text not null check (status in ('queued', 'running', 'done', 'failed')),
      progress jsonb not null,
      result jsonb,
      error text,
      input_ref text,
      input_format text,
      attempts integer not null default 0,
      heartbeat_at timestamptz,
      created_at timestamptz not null default now(),
      started_at timestamptz,
      finished_at timestamptz
    )`.execute(db);
  await sql`create index jobs_user_idx on jobs (user_id, created_at desc)`.execute(db);
  await sql`create index jobs_active_idx on jobs (status) where status in ('queued', 'running')`.execute(db);

  await sql`
    create table series_chunks (
      user_id uuid not null references users(id) on delete cascade,
      type text not null,
      date date not null,
      version integer not null default 1,
      ciphertext bytea not null,
      updated_at timestamptz not null default now(),
      primary key (user_id, type, date)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists series_chunks`.execute(db);
  await sql`drop table if exists jobs`.execute(db);
}
