import { sql, type Kysely } from 'kysely';

/**
 * Server-wide settings an admin changes in the app (issue 18: the default chat and embedding
 * models chosen in Settings -> Models, over `OLLAMA_MODEL` / `OLLAMA_EMBED_MODEL`). One clear row
 * per key: a model name belongs to the deployment, not to anyone's vault, and the server reads it
 * without any user's key (a sandbox preloads the default chat model before anyone asks).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table server_settings (
      key text primary key,
      value text not null,
      updated_by uuid references users(id) on delete set null,
      updated_at timestamptz not null default now()
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table server_settings`.execute(db);
}
