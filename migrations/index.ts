import type { Migration } from 'kysely';
import * as m0001 from './0001_init.js';
import * as m0002 from './0002_health.js';
import * as m0003 from './0003_chat.js';
import * as m0004 from './0004_integrations.js';
import * as m0005 from './0005_retrieval.js';
import * as m0006 from './0006_postings_fk.js';
import * as m0011 from './0011_blind_types.js';
import * as m0012 from './0012_signup.js';
import * as m0013 from './0013_history.js';
import * as m0014 from './0014_preferences.js';
import * as m0019 from './0019_api_tokens.js';
import * as m0021 from './0021_item_vectors.js';
import * as m0023 from './0023_instances.js';
import * as m0025 from './0025_audit_detail.js';
import * as m0026 from './0026_server_settings.js';
import * as m0028 from './0028_search_upkeep.js';
import * as m0029 from './0029_admin_handover.js';
import * as m0030 from './0030_cjk_search.js';
import * as m0031 from './0031_chat_turns.js';

/** Listed statically so migrations run the same under tsx, a bundle or a compiled build. */
export const migrations: Record<string, Migration> = {
  '0001_init': m0001,
  '0002_health': m0002,
  '0003_chat': m0003,
  '0004_integrations': m0004,
  '0005_retrieval': m0005,
  '0006_postings_fk': m0006,
  '0011_blind_types': m0011,
  '0012_signup': m0012,
  '0013_history': m0013,
  '0014_preferences': m0014,
  '0019_api_tokens': m0019,
  '0021_item_vectors': m0021,
  '0023_instances': m0023,
  '0025_audit_detail': m0025,
  '0026_server_settings': m0026,
  '0028_search_upkeep': m0028,
  '0029_admin_handover': m0029,
  '0030_cjk_search': m0030,
  '0031_chat_turns': m0031,
};
