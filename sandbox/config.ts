import { z } from 'zod';

/** The tested Ollama release (its source is what the sandbox's settings cite). */
export const SANDBOX_IMAGE_DEFAULT = 'ollama/ollama:0.32.15';

/**
 * How long a model may stay silent (see ModelDeadlines in ollama.ts). The first token waits for
 * the model to load, which on first use reads gigabytes from disk and can take a minute or more
 * on a CPU host; between tokens a working model is never silent this long.
 */
export const MODEL_DEADLINES_DEFAULT = { firstTokenMs: 120_000, idleMs: 60_000 } as const;

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

/** One engine of `SANDBOX_DOCKER_HOSTS`. */
export interface DockerHostSpec {
  /** Short name for logs and the `context-vault.host` label (`name=`, else `h1`, `h2`, ...). */
  name: string;
  /** `DOCKER_HOST` form: `unix:///path`, `tcp://host:port`, `http(s)://host:port`. */
  url: string;
  /** Sandboxes this engine may run at once. */
  capacity: number;
  /** `all`, comma-separated device ids, or `none`; unset = `SANDBOX_GPUS`. */
  gpus?: string;
}

// A new entry starts only where a URL does, so a comma inside `gpus=0,1` is not a separator.
const ENTRY_SEPARATOR = /\s*,\s*(?=(?:unix|tcp|https?):\/\/)/i;
const ENGINE_URL = /^(?:unix:\/\/\/\S+|(?:tcp|https?):\/\/[^\s/|]+(?::\d+)?\/?)$/i;
const HOST_NAME = /^[A-Za-z0-9_.-]{1,32}$/;

/**
 * Parses `SANDBOX_DOCKER_HOSTS`: entries `URL|capacity=N[|gpus=all|0,1|none][|name=NAME]`,
 * separated by commas. Returns the problems instead of throwing, for zod to report by name.
 */
export function parseDockerHosts(value: string): { hosts: DockerHostSpec[]; problems: string[] } {
  const hosts: DockerHostSpec[] = [];
  const problems: string[] = [];
  const entries = value
    .trim()
    .split(ENTRY_SEPARATOR)
    .filter((e) => e.trim() !== '');
  if (entries.length === 0) problems.push('lists no engine');
  entries.forEach((entry, i) => {
    const [rawUrl = '', ...opts] = entry
      .trim()
      .split('|')
      .map((p) => p.trim());
    const where = `entry ${i + 1}`;
    if (!ENGINE_URL.test(rawUrl)) problems.push(`${where}: "${rawUrl}" is not unix:///path, tcp://host:port or http(s)://host:port`);
    const spec: Partial<DockerHostSpec> = { url: rawUrl, name: `h${i + 1}` };
    for (const opt of opts) {
      const eq = opt.indexOf('=');
      const key = eq < 0 ? opt : opt.slice(0, eq).trim();
      const v = eq < 0 ? '' : opt.slice(eq + 1).trim();
      if (key === 'capacity' && /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 1000) spec.capacity = Number(v);
      else if (key === 'capacity') problems.push(`${where}: capacity must be a whole number from 1 to 1000`);
      else if (key === 'gpus' && /^(all|none|[A-Za-z0-9-]+(\s*,\s*[A-Za-z0-9-]+)*)$/.test(v)) spec.gpus = v.replace(/\s+/g, '');
      else if (key === 'gpus') problems.push(`${where}: gpus must be all, none or comma-separated device ids`);
      else if (key === 'name' && HOST_NAME.test(v)) spec.name = v;
      else if (key === 'name') problems.push(`${where}: name must be 1-32 letters, digits, '.', '_' or '-'`);
      else problems.push(`${where}: unknown option "${key}" (capacity, gpus, name)`);
    }
    if (!opts.some((o) => o.startsWith('capacity'))) problems.push(`${where}: capacity=N is required`);
    hosts.push(spec as DockerHostSpec);
  });
  const dup = (k: 'name' | 'url') => hosts.map((h) => h[k]).find((v, i, all) => all.indexOf(v) !== i);
  if (dup('name')) problems.push(`the name ${dup('name')} is used twice`);
  if (dup('url')) problems.push(`the engine ${dup('url')} is listed twice`);
  return { hosts, problems };
}

const dockerHostsSchema = z.string().transform((value, ctx) => {
  const { hosts, problems } = parseDockerHosts(value);
  for (const message of problems) ctx.addIssue({ code: 'custom', message });
  return problems.length ? z.NEVER : hosts;
});
const optionalString = z.preprocess(emptyToUndefined, z.string().min(1).optional());
const int = (min: number) => z.coerce.number().int().min(min);

/**
 * Sandbox settings (camelCase; SANDBOX_ENV_NAMES gives each one's variable). Numbers are coerced
 * so the server's config can feed raw environment strings. The descriptions are the documentation:
 * `npm run docs:env` renders them into README.md, docs/API.md and docs/configuration.md.
 */
export const SandboxConfigSchema = z.object({
  runtime: z
    .preprocess(emptyToUndefined, z.enum(['auto', 'docker', 'url', 'none']).default('auto'))
    .describe('`docker`, `url`, `none` or `auto` (docker if an engine answers, else `url` if `OLLAMA_URL` is set, else none).'),
  dockerHost: optionalString
    .meta({ defaultText: '`unix:///var/run/docker.sock`' })
    .describe('The engine the docker runtime talks to: `unix:///path`, `tcp://host:port` or `http(s)://host:port`.'),
  dockerHosts: z
    .preprocess(emptyToUndefined, dockerHostsSchema.optional())
    .meta({ defaultText: 'unset = `DOCKER_HOST` alone' })
    .describe(
      'Several engines for sandboxes, comma-separated, each `URL|capacity=N` with optional `|gpus=all` (or ids, or `none`; default `SANDBOX_GPUS`) and `|name=NAME`, e.g. `unix:///run/a.sock|capacity=2|gpus=all, tcp://10.0.0.5:2375|capacity=4|gpus=0,1`. New sandboxes go to the answering engine with the most free capacity; one that stops answering is drained. The capacities replace `SANDBOX_MAX`.',
    ),
  image: z
    .preprocess(emptyToUndefined, z.string().min(1).default(SANDBOX_IMAGE_DEFAULT))
    .describe('Image of an inference container (a tested Ollama release, never `latest`); it must listen on 11434 and honour `OLLAMA_HOST` / `OLLAMA_MODELS`.'),
  guardImage: z
    .preprocess(emptyToUndefined, z.string().min(1).default('context-vault:latest'))
    .describe("Image of each sandbox's network guard and firewall (needs sh, sleep and iptables): the app's own image."),
  modelsDir: z
    .preprocess(emptyToUndefined, z.string().min(1).default('./data/models'))
    .meta({ defaultText: '`$DATA_DIR/models`' })
    .describe('Host directory of model weights, mounted read-only at /models.'),
  minWarm: z.preprocess(emptyToUndefined, int(0).default(1)).describe('Unassigned containers kept ready.'),
  max: z.preprocess(emptyToUndefined, int(1).default(2)).describe('Containers alive at once, whatever their state.'),
  maxUses: z.preprocess(emptyToUndefined, int(1).default(10)).describe('Leases before a container is recycled.'),
  maxAgeMs: z.preprocess(emptyToUndefined, int(1).default(600_000)).describe('Age (ms) after which a container is recycled.'),
  memoryMb: z.preprocess(emptyToUndefined, int(64).default(8192)).describe('Memory limit of each container, in MiB (its tmpfs counts against it).'),
  gpus: optionalString.describe('`all` or comma-separated device ids; unset = CPU only.'),
  ollamaUrl: z.preprocess(emptyToUndefined, z.url().optional()).describe('An existing Ollama, for the `url` runtime.'),
  model: z
    .preprocess(
      emptyToUndefined,
      z
        .string()
        .min(1)
        .refine((m) => !isCloudModel(m), 'is a cloud model: it would send prompts to ollama.com')
        .default('llama3.1:8b'),
    )
    .describe('The chat model; never a cloud model (those send the prompt to ollama.com).'),
  embedModel: z
    .preprocess(emptyToUndefined, z.string().min(1).default('nomic-embed-text'))
    .describe('The embedding model (absent from the models directory = keyword search only); Settings -> Models can choose another.'),
  // Below 2048 the rules and the answer reserve leave no room for sources.
  numCtx: z.preprocess(emptyToUndefined, int(2048).default(8192)).describe('Context window (tokens) sent with every request; at least 2048.'),
  queueMax: z.preprocess(emptyToUndefined, int(0).default(16)).describe('Chats waiting for a container beyond which new ones are refused as busy.'),
  acquireTimeoutMs: z
    .preprocess(emptyToUndefined, int(1).default(30_000))
    .describe('How long (ms) a chat may wait for a container, once per turn (embedding the question and the answer share it); then 503 `pool_timeout`.'),
  firstTokenTimeoutMs: z
    .preprocess(emptyToUndefined, int(1).default(MODEL_DEADLINES_DEFAULT.firstTokenMs))
    .describe(
      "How long (ms) the model may take to send an answer's first token (loading the model included), and to answer an embedding request; past it the request is cut, the container discarded, and the chat answered 503 `ai_timeout`.",
    ),
  idleTimeoutMs: z
    .preprocess(emptyToUndefined, int(1).default(MODEL_DEADLINES_DEFAULT.idleMs))
    .describe('How long (ms) the model may stay silent between two tokens of an answer; past it the answer ends with an `ai_timeout` error event.'),
  network: z
    .preprocess(emptyToUndefined, z.string().min(1).default('context-vault-sandbox'))
    .describe('Name prefix of the internal network each inference container gets.'),
  owner: z
    .preprocess(
      emptyToUndefined,
      z
        .string()
        .regex(/^[A-Za-z0-9_.-]{1,64}$/)
        .default('default'),
    )
    .describe("Which server's containers these are: orphan removal only touches its own, so API instances sharing an engine set distinct owners."),
  attachContainer: optionalString.describe(
    "The API server's own container name when it runs under the same engine (docker compose); it joins each sandbox network.",
  ),
});

/** Parsed sandbox settings. */
export type SandboxConfig = z.infer<typeof SandboxConfigSchema>;

/** Environment variable behind each {@link SandboxConfig} field. */
export const SANDBOX_ENV_NAMES: Record<keyof SandboxConfig, string> = {
  runtime: 'SANDBOX_RUNTIME',
  dockerHost: 'DOCKER_HOST',
  dockerHosts: 'SANDBOX_DOCKER_HOSTS',
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
  embedModel: 'OLLAMA_EMBED_MODEL',
  numCtx: 'OLLAMA_NUM_CTX',
  queueMax: 'SANDBOX_QUEUE_MAX',
  acquireTimeoutMs: 'SANDBOX_ACQUIRE_TIMEOUT_MS',
  firstTokenTimeoutMs: 'OLLAMA_FIRST_TOKEN_TIMEOUT_MS',
  idleTimeoutMs: 'OLLAMA_IDLE_TIMEOUT_MS',
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
