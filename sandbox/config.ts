import { z } from 'zod';

/** The tested Ollama release (its source is what the sandbox's settings cite). */
export const SANDBOX_IMAGE_DEFAULT = 'ollama/ollama:0.32.15';

/**
 * Whether a model name is one of Ollama's cloud models, which run on ollama.com: the `:cloud`
 * tag and the older `-cloud` suffix (ollama v0.32.15 server/model_resolver.go and
 * model_recommendations.go).
 */
export function isCloudModel(model: string): boolean {
  const m = model.trim().toLowerCase();
  return m.endsWith(':cloud') || m.endsWith('-cloud');
}

const emptyToUndefined = (v: unknown) => (v === '' ? undefined : v);
const optionalString = z.preprocess(emptyToUndefined, z.string().min(1).optional());
const int = (min: number) => z.coerce.number().int().min(min);

/**
 * Sandbox settings (camelCase). Numbers are coerced so the server's config can feed raw
 * environment strings; every field has the documented default (API.md, "Configuration").
 * `queueMax`, `acquireTimeoutMs`, `network`, `owner` and `attachContainer` are ours, beyond the API.md table.
 */
export const SandboxConfigSchema = z.object({
  /** `SANDBOX_RUNTIME`: auto picks docker if the engine answers, else url if set, else none. */
  runtime: z.preprocess(emptyToUndefined, z.enum(['auto', 'docker', 'url', 'none']).default('auto')),
  /** `DOCKER_HOST`: `unix:///path`, `tcp://host:port` or `http(s)://host:port`. */
  dockerHost: optionalString,
  /**
   * `SANDBOX_IMAGE`: must listen on 11434 and honour OLLAMA_HOST / OLLAMA_MODELS. A tested tag,
   * never `latest` (one release changed the runner architecture under it).
   */
  image: z.preprocess(emptyToUndefined, z.string().min(1).default(SANDBOX_IMAGE_DEFAULT)),
  /** `SANDBOX_GUARD_IMAGE`: the sandbox's network guard and firewall; needs sh, sleep and iptables. */
  guardImage: z.preprocess(emptyToUndefined, z.string().min(1).default('context-vault:latest')),
  /** `SANDBOX_MODELS_DIR`: host directory of weights, mounted read-only at /models. */
  modelsDir: z.preprocess(emptyToUndefined, z.string().min(1).default('./data/models')),
  /** `SANDBOX_MIN_WARM`: unassigned containers kept ready. */
  minWarm: z.preprocess(emptyToUndefined, int(0).default(1)),
  /** `SANDBOX_MAX`: containers alive at once, whatever their state. */
  max: z.preprocess(emptyToUndefined, int(1).default(2)),
  /** `SANDBOX_MAX_USES`: leases before a container is recycled. */
  maxUses: z.preprocess(emptyToUndefined, int(1).default(10)),
  /** `SANDBOX_MAX_AGE_MS`: age after which a container is recycled. */
  maxAgeMs: z.preprocess(emptyToUndefined, int(1).default(600_000)),
  /** `SANDBOX_MEMORY_MB`: cgroup memory limit of each container (tmpfs counts against it). */
  memoryMb: z.preprocess(emptyToUndefined, int(64).default(8192)),
  /** `SANDBOX_GPUS`: `all` or comma-separated device ids; unset = CPU only. */
  gpus: optionalString,
  /** `OLLAMA_URL`: an existing Ollama for the `url` runtime. */
  ollamaUrl: z.preprocess(emptyToUndefined, z.url().optional()),
  /** `OLLAMA_MODEL`: the chat model; never a cloud model (those send the prompt to ollama.com). */
  model: z.preprocess(
    emptyToUndefined,
    z.string().min(1).refine((m) => !isCloudModel(m), 'is a cloud model: it would send prompts to ollama.com').default('llama3.1:8b'),
  ),
  /** `OLLAMA_NUM_CTX`: context window sent with every request. */
  // Below 2048 the rules and the answer reserve leave no room for sources.
  numCtx: z.preprocess(emptyToUndefined, int(2048).default(8192)),
  /** `SANDBOX_QUEUE_MAX`: waiting acquires beyond which `PoolSaturatedError` is thrown. */
  queueMax: z.preprocess(emptyToUndefined, int(0).default(16)),
  /** `SANDBOX_ACQUIRE_TIMEOUT_MS`: how long an acquire may wait before `PoolTimeoutError`. */
  acquireTimeoutMs: z.preprocess(emptyToUndefined, int(1).default(30_000)),
  /** `SANDBOX_NETWORK`: name prefix of the internal network each inference container gets. */
  network: z.preprocess(emptyToUndefined, z.string().min(1).default('context-vault-sandbox')),
  /**
   * `SANDBOX_OWNER`: which server's containers these are. Orphan removal only touches containers
   * with the same owner, so several API instances sharing one engine must set distinct owners.
   */
  owner: z.preprocess(emptyToUndefined, z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).default('default')),
  /**
   * `SANDBOX_ATTACH_CONTAINER`: the API server's own container name when it runs under the same
   * engine (docker compose); it is connected to each sandbox network to reach the sandbox.
   */
  attachContainer: optionalString,
});

/** Parsed sandbox settings. */
export type SandboxConfig = z.infer<typeof SandboxConfigSchema>;

/** Environment variable behind each {@link SandboxConfig} field. */
export const SANDBOX_ENV_NAMES: Record<keyof SandboxConfig, string> = {
  runtime: 'SANDBOX_RUNTIME',
  dockerHost: 'DOCKER_HOST',
  image: 'SANDBOX_IMAGE',
  guardImage: 'SANDBOX_GUARD_IMAGE',
  modelsDir: 'SANDBOX_MODELS_DIR',
  minWarm: 'SANDBOX_MIN_WARM',
  max: 'SANDBOX_MAX',
  maxUses: 'SANDBOX_MAX_USES',
  maxAgeMs: 'SANDBOX_MAX_AGE_MS',
  memoryMb: 'SANDBOX_MEMORY_MB',
  gpus: 'SANDBOX_GPUS',
  ollamaUrl: 'OLLAMA_URL',
  model: 'OLLAMA_MODEL',
  numCtx: 'OLLAMA_NUM_CTX',
  queueMax: 'SANDBOX_QUEUE_MAX',
  acquireTimeoutMs: 'SANDBOX_ACQUIRE_TIMEOUT_MS',
  network: 'SANDBOX_NETWORK',
  owner: 'SANDBOX_OWNER',
  attachContainer: 'SANDBOX_ATTACH_CONTAINER',
};

/**
 * Reads {@link SandboxConfig} from environment variables. `SANDBOX_MODELS_DIR` defaults to
 * `$DATA_DIR/models`. Throws a ZodError listing every bad variable (paths are the env names).
 */
export function sandboxConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SandboxConfig {
  const raw: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(SANDBOX_ENV_NAMES)) raw[key] = env[name];
  if (raw.modelsDir === undefined || raw.modelsDir === '') {
    raw.modelsDir = `${env.DATA_DIR && env.DATA_DIR !== '' ? env.DATA_DIR : './data'}/models`;
  }
  const parsed = SandboxConfigSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const names = SANDBOX_ENV_NAMES as Record<string, string>;
  throw new z.ZodError(
    parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      return { ...issue, path: [names[key] ?? key, ...issue.path.slice(1)] };
    }),
  );
}
