import { z } from 'zod';

/** Shared response shapes: listing every field means nothing unlisted is ever serialised. */
export const ItemSchema = z.object({
  id: z.string(),
  kind: z.enum(['note', 'document', 'record', 'series']),
  source: z.enum(['manual', 'upload', 'fhir', 'epic', 'fitbit', 'google_health', 'apple_health']),
  type: z.string().nullable(),
  title: z.string(),
  text: z.string(),
  tags: z.array(z.string()),
  occurredAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  version: z.number().int(),
  folderId: z.string().nullable(),
  fileId: z.string().optional(),
  data: z.record(z.string(), z.unknown()).optional(),
  extraction: z.object({ status: z.enum(['ok', 'pending', 'none', 'failed']), reason: z.string().optional() }).optional(),
});

export const UserSchema = z.object({ id: z.string(), email: z.string() });

export const ErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

export const IdParams = z.object({ id: z.uuid({ message: 'must be a valid id' }) });

export const IsoDate = z.string().refine((v) => !Number.isNaN(new Date(v).getTime()), 'must be an ISO 8601 date');
