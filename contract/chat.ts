import { z } from 'zod';
import { Id, isVisible, nameField, TimeZone } from './common.js';

/** A numbered source an answer cites as [n]. */
export const Source = z.object({
  n: z.number(),
  /** Null for a computed source (a daily series summary): nothing to open. */
  itemId: z.string().nullable(),
  title: z.string(),
  kind: z.string(),
  occurredAt: z.string().nullable(),
  page: z.number().optional(),
  passage: z.string().optional(),
});
export type Source = z.infer<typeof Source>;

/** What the model was given for an answer (never the prompt itself). */
export const AnswerContext = z.object({
  model: z.string(),
  numCtx: z.number(),
  promptTokens: z.number(),
  answerReserve: z.number(),
  sourcesFound: z.number(),
  sourcesUsed: z.number(),
  truncated: z.number().optional(),
  historyMessages: z.number(),
  /** `keyword`: no embedding model took part in finding the sources. */
  retrieval: z.enum(['hybrid', 'keyword']).optional(),
});
export type AnswerContext = z.infer<typeof AnswerContext>;

/** An earlier answer to the same question, kept when it was regenerated. */
export const AnswerAlternative = z.object({
  text: z.string(),
  sources: z.array(Source),
  createdAt: z.string(),
  context: AnswerContext.optional(),
  stopped: z.boolean().optional(),
  cutOff: z.boolean().optional(),
});
export type AnswerAlternative = z.infer<typeof AnswerAlternative>;

export const ChatSummary = z.object({ id: z.string(), title: z.string(), updatedAt: z.string() });
export type ChatSummary = z.infer<typeof ChatSummary>;
/** `nextCursor`: the next page's `cursor` (opaque), null on the last page. */
export const ChatList = z.object({ chats: z.array(ChatSummary), nextCursor: z.string().nullable() });
export type ChatList = z.infer<typeof ChatList>;

/** `GET /api/chats`: most recently updated first; `cursor` is a previous page's `nextCursor`. */
export const ListChatsQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(100), cursor: z.string().max(200).optional() });
export type ListChatsQuery = z.infer<typeof ListChatsQuery>;

export const ChatMessage = z.object({
  id: z.string(),
  role: z.enum(['user', 'assistant']),
  text: z.string(),
  sources: z.array(Source),
  createdAt: z.string(),
  stopped: z.boolean().optional(),
  /** The answer reached the length limit and ends there. */
  cutOff: z.boolean().optional(),
  context: AnswerContext.optional(),
  alternatives: z.array(AnswerAlternative).optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

export const ChatThread = z.object({
  id: z.string(),
  title: z.string(),
  /** The chat's model (its own pick, else the server default). */
  model: z.string(),
  messages: z.array(ChatMessage),
});
export type ChatThread = z.infer<typeof ChatThread>;

/** The longest question, in UTF-16 units as documented (zod's `.max` counts code points). */
const MESSAGE_UNITS = 4000;

export const ChatBody = z.object({
  message: z
    .string()
    .trim()
    .min(1, { message: 'must not be empty', abort: true })
    .max(MESSAGE_UNITS)
    .refine((v) => v.length <= MESSAGE_UNITS, `must be at most ${MESSAGE_UNITS} characters (UTF-16 units)`)
    .refine(isVisible, 'must not be empty'),
  chatId: Id.optional(),
  /** The browser's IANA zone, so "yesterday" means the user's yesterday. */
  timeZone: TimeZone.optional(),
  /**
   * An Ollama model name (`llama3.1:8b`, `library/qwen2.5:7b-instruct-q4_K_M`); stored sealed with
   * the chat. Never a cloud model (`:cloud`, `-cloud`: 400 `cloud_model`, checked by the chat
   * service, which also sees a chat's stored model), and one the runtime has (422 `model_not_found`).
   */
  model: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/, 'must be an Ollama model name')
    .optional(),
});
export type ChatBody = z.infer<typeof ChatBody>;

// A bare POST (no body at all) is the common case from scripts.
export const RegenerateBody = z.object({ timeZone: TimeZone.optional() }).nullish();
export const RenameChatBody = z.object({ title: nameField(200) });
