import { sql, type Kysely } from 'kysely';

/**
 * Postings lose their foreign key to `users`. Every posting already references its item, whose
 * own key to `users` cascades, so deleting an account still deletes every posting; the second
 * key only cost a row lock and an index probe per posting (imports write tens of thousands per
 * batch, and on embedded PGlite that check was about a sixth of the insert's time).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table search_terms drop constraint if exists search_terms_user_id_fkey`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table search_terms add constraint search_terms_user_id_fkey foreign key (user_id) references users(id) on delete cascade`.execute(db);
}
