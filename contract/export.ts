import { z } from 'zod';
import { AnswerContext, Source } from './chat.js';
import { CreateItemBody, Item } from './items.js';

/** `POST /api/export`: encrypt to exactly one of a passphrase or an age recipient. */
export const exportBodySchema = (isAgeRecipient: (v: string) => boolean) =>
  z
    .object({
      passphrase: z
        .string()
        .min(10, 'must be at least 10 characters')
        .max(1024)
        .optional()
        .describe('Encrypt to this passphrase (age scrypt recipient, work factor 2^18).'),
      recipient: z.string().refine(isAgeRecipient, 'must be an age X25519 recipient (age1...)').optional().describe('Encrypt to this age recipient.'),
      includeTrash: z.boolean().default(false).describe('Also export items in the trash (the manifest says which).'),
    })
    .refine((b) => (b.passphrase === undefined) !== (b.recipient === undefined), 'send exactly one of passphrase or recipient');

export const DeleteAccountBody = z.object({ passphrase: z.string().min(1).max(1024) });

/**
 * The lines of an export, once decrypted with `age -d` (the layout of the tar is in
 * server/export/format.ts). An export is read back by `POST /api/import/export`, so these
 * shapes are parsed on the way in as strictly as request bodies.
 */
export const EXPORT_FORMAT = 'context-vault-export';
export const EXPORT_VERSION = 1;

export const Manifest = z.object({
  format: z.literal(EXPORT_FORMAT),
  version: z.number().int().min(1),
  created: z.string(),
  /** Whether trashed items are in items.jsonl (absent in exports made before folders: yes). */
  includesTrash: z.boolean().optional(),
  counts: z.record(z.string(), z.number().int().min(0)),
});
export type Manifest = z.infer<typeof Manifest>;

export const ExportFile = z.object({ id: z.string(), name: z.string().min(1).max(255), contentType: z.string().max(200), size: z.number().int().min(0) });
export type ExportFile = z.infer<typeof ExportFile>;

/**
 * The most text an item may hold: a note's is the API's limit (1,000,000 characters), a file's
 * text as read from it is cut at 2,000,000 (MAX_TEXT_CHARS in server/files/extract.ts).
 */
const MAX_ITEM_TEXT = 2_000_000;
const noteText = CreateItemBody.shape.text.unwrap();

/**
 * An item as the API shows it, less its version counter: an export holds each item as it is now,
 * not its earlier versions, so a restore starts its history afresh. `deletedAt` marks trashed
 * items; `folderId` is optional in exports made before folders. Title and tags are held to the
 * limits `POST /api/items` applies, and a note's text too: a restore stores nothing the API would
 * refuse.
 */
export const ExportItem = Item.omit({ version: true, folderId: true, extraction: true })
  .extend({
    title: CreateItemBody.shape.title,
    text: z.string().max(MAX_ITEM_TEXT),
    tags: CreateItemBody.shape.tags.unwrap(),
    deletedAt: z.string().nullable().optional(),
    folderId: z.string().nullable().optional(),
    extraction: z.object({ status: z.enum(['ok', 'pending', 'none', 'failed']), reason: z.string().max(200).optional() }).optional(),
    /**
     * An imported record's identity at its source (a FHIR `Type/id`, a HealthKit sample's key) and
     * the version stored: restored, it stays the same record to that source's next import.
     */
    external: z.object({ id: z.string().min(1).max(1000), version: z.string().max(1000), placeholder: z.literal(true).optional() }).optional(),
  })
  .superRefine((item, ctx) => {
    if (item.kind !== 'note') return;
    const issue = noteText.safeParse(item.text).error?.issues[0];
    if (issue) ctx.addIssue({ code: 'custom', path: ['text'], message: issue.message });
  });
export type ExportItem = z.infer<typeof ExportItem>;

export const ExportFolder = z.object({ id: z.string(), name: z.string().min(1).max(200), parentId: z.string().nullable() });
export type ExportFolder = z.infer<typeof ExportFolder>;

/** A source as chats.jsonl keeps it: what the answer's [n] markers point at. */
const ExportSource = Source.pick({ n: true, itemId: true, title: true, kind: true, occurredAt: true });
const ExportAnswerContext = AnswerContext.omit({ retrieval: true });
const ExportAnswer = z.object({
  text: z.string(),
  sources: z.array(ExportSource),
  createdAt: z.string(),
  context: ExportAnswerContext.optional(),
  stopped: z.boolean().optional(),
  cutOff: z.boolean().optional(),
});

/** One line of chats.jsonl: a chat, its messages, what the model saw and earlier answers, as they were. */
export const ExportChat = z.object({
  id: z.string(),
  title: z.string(),
  /** The chat's own model, when one was picked. */
  model: z.string().optional(),
  messages: z.array(ExportAnswer.extend({ role: z.enum(['user', 'assistant']), alternatives: z.array(ExportAnswer).optional() })),
});
export type ExportChat = z.infer<typeof ExportChat>;
