import { z } from 'zod';
import { IsoDate } from '../schemas.js';

const title = z.string().trim().min(1, 'must not be empty').max(500);
const text = z.string().max(1_000_000);
const tags = z.array(z.string().trim().min(1).max(64)).max(32);

export const CreateItemBody = z.object({
  kind: z.literal('note').default('note'),
  title,
  text: text.default(''),
  tags: tags.optional(),
  occurredAt: IsoDate.nullable().optional(),
});

export const PatchItemBody = z
  .object({ title: title.optional(), text: text.optional(), tags: tags.optional(), occurredAt: IsoDate.nullable().optional() })
  .refine((b) => Object.keys(b).length > 0, 'nothing to change');

export const ListItemsQuery = z.object({
  kind: z.enum(['note', 'document', 'record', 'series']).optional(),
  source: z.enum(['manual', 'upload', 'fhir', 'epic', 'fitbit', 'google_health', 'apple_health']).optional(),
  type: z.string().max(200).optional(),
  tag: z.string().max(64).optional(),
  from: IsoDate.optional(),
  to: IsoDate.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});
