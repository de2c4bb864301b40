import { z } from 'zod';

export const ModelName = z.string().trim().min(1).max(200);

/** A model as `GET /api/models` shows it. */
export const ModelInfo = z.object({
  name: z.string(),
  size: z.number(),
  family: z.string().optional(),
  quantization: z.string().optional(),
  contextLength: z.number().optional(),
  /** Whether weights plus the KV cache of `OLLAMA_NUM_CTX` tokens fit `SANDBOX_MEMORY_MB`. */
  fits: z.boolean(),
  /** The bytes that comparison used. */
  requiredBytes: z.number(),
  /** `chat` answers questions; `embedding` only turns text into vectors (the default embedding model's kind). */
  kind: z.enum(['chat', 'embedding']),
});
export type ModelInfo = z.infer<typeof ModelInfo>;

export const ModelDefaults = z.object({ chat: z.string(), embed: z.string() });
export type ModelDefaults = z.infer<typeof ModelDefaults>;

/** `GET /api/models`: the models directory, the server defaults, and whether this account may change them. */
export const ModelsResponse = z.object({
  models: z.array(ModelInfo),
  defaults: ModelDefaults,
  canManage: z.boolean(),
  limits: z.object({ memoryMb: z.number(), gpus: z.boolean(), numCtx: z.number() }),
});
export type ModelsResponse = z.infer<typeof ModelsResponse>;

export const PullModelBody = z.object({ name: ModelName });
export const SetDefaultsBody = z
  .object({ chat: ModelName.optional(), embed: ModelName.optional() })
  .refine((b) => b.chat !== undefined || b.embed !== undefined, 'give chat or embed');
