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
  .object({
    title: title.optional(),
    text: text.optional(),
    tags: tags.optional(),
    occurredAt: IsoDate.nullable().optional(),
    baseVersion: z.number().int().min(1).optional(),
    merge: z.boolean().optional(),
    folderId: z.uuid({ message: 'must be a valid id' }).nullable().optional(),
  })
  .refine((b) => Object.keys(b).some((k) => k !== 'baseVersion' && k !== 'merge'), 'nothing to change');

/** `If-Match: "3"` (or `W/"3"`, or a bare 3): the version an edit is based on. */
export const IfMatchHeaders = z.object({
  'if-match': z
    .string()
    .regex(/^(W\/)?"?\d{1,9}"?$/, 'must be the item version, e.g. "3"')
    .transform((v) => Number(v.replace(/\D/g, '')))
    .optional(),
});

export const ListItemsQuery = z.object({
  kind: z.enum(['note', 'document', 'record', 'series']).optional(),
  source: z.enum(['manual', 'upload', 'fhir', 'epic', 'fitbit', 'google_health', 'apple_health']).optional(),
  type: z.string().max(200).optional(),
  tag: z.string().max(64).optional(),
  from: IsoDate.optional(),
  to: IsoDate.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
  folderId: z.union([z.uuid({ message: 'must be a valid id' }), z.literal('none')]).optional(),
  recursive: z
    .enum(['true', 'false', '1', '0'])
    .transform((v) => v === 'true' || v === '1')
    .optional(),
});
