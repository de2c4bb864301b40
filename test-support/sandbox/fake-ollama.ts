import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { blobPath, ggufHeader, listModelFiles, manifestPath, readGgufHeader } from '../../sandbox/model-files.js';
import { sameModel, taggedModelName } from '../../sandbox/model-names.js';
import { fakeEmbedding } from './fake-embed.js';

/** How the stand-in answers `/api/chat` and `/api/generate`. */
export interface FakeOllamaOptions {
  /** Tokens streamed, in order (default a short fixed answer). */
  tokens?: string[];
  /** Delay before each token, in ms (default 0). */
  tokenDelayMs?: number;
  /**
   * `ok`; `fail`: answer 500 `{"error":...}` before streaming; `fail-midstream`: stream two
   * tokens then an `{"error":...}` line, as Ollama does when a runner dies mid-generation.
   */
  mode?: 'ok' | 'fail' | 'fail-midstream';
  /**
   * Models it has. Given (or read from `$OLLAMA_MODELS/manifests` when run as a process), chat
   * and generate answer 404 `model '<name>' not found` for any other, as Ollama does; unset, every
   * model answers and `/api/tags` lists `llama3.1:8b`.
   */
  models?: string[];
  /**
   * Models that can think. As Ollama does (server/routes.go, ChatHandler), a request with `think`
   * unset or true gets its answer in `message.thinking` and an empty `message.content`.
   */
  thinkingModels?: string[];
  /**
   * A models directory (as `OLLAMA_MODELS`): `/api/tags` and `/api/show` read it on every call,
   * `/api/pull` writes there and `/api/delete` removes from it, and chat knows exactly its models.
   */
  modelsDir?: string;
  /** What `/api/pull` can fetch (the "registry"); any other name fails as Ollama's does. */
  registry?: Record<string, FakeRegistryModel>;
  /** Delay between pull progress lines, in ms (default 0). */
  pullDelayMs?: number;
}

/** A model the stand-in's registry serves: its weights' size and GGUF metadata. */
export interface FakeRegistryModel {
  /** Bytes of the model layer (written sparse: no disk is used for it). */
  size: number;
  family: string;
  quantization: string;
  contextLength: number;
  parameterSize?: string;
  blockCount?: number;
  embeddingLength?: number;
  headCount?: number;
  headCountKv?: number;
  /** Written as `<family>.pooling_type` (an embedding model: 1 = mean, as nomic-bert's). */
  poolingType?: number;
}

/** One model load: what the scheduler loaded, with which context (`auto` = none was sent). */
export interface ModelLoad {
  model: string;
  numCtx: number | 'auto';
}

/** One request the stand-in received. */
export interface RecordedRequest {
  method: string;
  path: string;
  /** Parsed JSON body (undefined for GET or unparseable bodies). */
  body: unknown;
  at: number;
}

/** A running stand-in. */
export interface FakeOllama {
  url: string;
  port: number;
  server: Server;
  requests: RecordedRequest[];
  /** Streams cut short because the client went away (the abort signal reached the server). */
  abortedStreams: number;
  /** Streams that ran to their final `done` record. */
  completedStreams: number;
  /**
   * Every (re)load of a model. Like Ollama's scheduler, a request whose `num_ctx` differs from
   * the loaded model's (or sends none: the automatic VRAM-sized context) loads it again.
   */
  loads: ModelLoad[];
  options: FakeOllamaOptions;
  /** Resolves when a stream is next cut short by the client. */
  nextAbort(): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_TOKENS = ['The', ' answer', ' is', ' in', ' source', ' [1]', '.'];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  if (chunks.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Starts a small HTTP server that speaks the parts of Ollama's API the project uses:
 * `GET /`, `GET /api/version`, `GET /api/tags`, `GET /api/ps`, `POST /api/chat` (NDJSON stream
 * or single object, records shaped like Ollama's: `model`, `created_at`, `message{role,content}`,
 * `done`, then a final record with `done_reason` and the duration/count fields in nanoseconds)
 * and a minimal `POST /api/generate`. Every request body is recorded for assertions.
 */
export async function startFakeOllama(options: FakeOllamaOptions = {}, listen: { host?: string; port?: number } = {}): Promise<FakeOllama> {
  let abortWaiters: Array<() => void> = [];
  const state: FakeOllama = {
    url: '',
    port: 0,
    server: undefined as unknown as Server,
    requests: [],
    abortedStreams: 0,
    completedStreams: 0,
    loads: [],
    options,
    nextAbort: () => new Promise<void>((resolve) => abortWaiters.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        state.server.closeAllConnections();
        state.server.close(() => resolve());
      }),
  };

  const stream = async (
    req: IncomingMessage,
    res: ServerResponse,
    model: string,
    streaming: boolean,
    shape: (content: string) => Record<string, unknown>,
    numPredict?: number,
  ) => {
    const opts = state.options;
    const all = opts.tokens ?? DEFAULT_TOKENS;
    // num_predict ends the answer there with done_reason "length", as llama-server does.
    const cut = numPredict !== undefined && numPredict >= 0 && all.length > numPredict;
    const tokens = cut ? all.slice(0, numPredict) : all;
    const started = process.hrtime.bigint();
    if (opts.mode === 'fail') {
      sendJson(res, 500, { error: 'fake ollama: model runner has unexpectedly stopped' });
      return;
    }
    const final = (): Record<string, unknown> => ({
      model,
      created_at: new Date().toISOString(),
      ...shape(''),
      done_reason: cut ? 'length' : 'stop',
      done: true,
      total_duration: Number(process.hrtime.bigint() - started),
      load_duration: 1_000_000,
      prompt_eval_count: 12,
      prompt_eval_duration: 2_000_000,
      eval_count: tokens.length,
      eval_duration: Number(process.hrtime.bigint() - started),
    });
    if (!streaming) {
      for (let i = 0; i < tokens.length; i++) if (opts.tokenDelayMs) await sleep(opts.tokenDelayMs);
      const all = final();
      sendJson(res, 200, { ...all, ...shape(tokens.join('')) });
      state.completedStreams++;
      return;
    }
    let gone = false;
    res.on('close', () => {
      if (!res.writableFinished) {
        gone = true;
        state.abortedStreams++;
        const waiters = abortWaiters;
        abortWaiters = [];
        for (const w of waiters) w();
      }
    });
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    for (let i = 0; i < tokens.length; i++) {
      if (opts.tokenDelayMs) await sleep(opts.tokenDelayMs);
      if (gone) return;
      if (opts.mode === 'fail-midstream' && i === 2) {
        res.end(JSON.stringify({ error: 'fake ollama: an error was encountered while running the model' }) + '\n');
        return;
      }
      res.write(JSON.stringify({ model, created_at: new Date().toISOString(), ...shape(tokens[i]!), done: false }) + '\n');
    }
    if (gone) return;
    res.end(JSON.stringify(final()) + '\n');
    state.completedStreams++;
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const body = req.method === 'POST' || req.method === 'DELETE' ? await readJson(req) : undefined;
    state.requests.push({ method: req.method ?? '', path: url.pathname, body, at: Date.now() });
    const b = (body ?? {}) as Record<string, unknown>;
    const model = typeof b.model === 'string' ? b.model : 'unknown';
    const streaming = b.stream !== false;
    try {
      if (req.method === 'GET' && url.pathname === '/') {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('Ollama is running');
      } else if (req.method === 'GET' && url.pathname === '/api/version') {
        sendJson(res, 200, { version: '0.0.0-fake' });
      } else if (req.method === 'GET' && url.pathname === '/api/tags' && state.options.modelsDir) {
        sendJson(res, 200, { models: (await listModelFiles(state.options.modelsDir)).map(tagsEntry) });
      } else if (req.method === 'POST' && url.pathname === '/api/show' && state.options.modelsDir) {
        await showModel(res, state.options.modelsDir, String(b.model ?? b.name ?? ''));
      } else if (req.method === 'POST' && url.pathname === '/api/pull' && state.options.modelsDir) {
        await pullModel(res, state.options, String(b.model ?? b.name ?? ''), b.stream !== false);
      } else if (req.method === 'DELETE' && url.pathname === '/api/delete' && state.options.modelsDir) {
        await deleteModel(res, state.options.modelsDir, String(b.model ?? b.name ?? ''));
      } else if (req.method === 'GET' && url.pathname === '/api/tags') {
        const names = state.options.models ?? ['llama3.1:8b'];
        sendJson(res, 200, {
          models: names.map((name) => ({
            name,
            model: name,
            modified_at: new Date(0).toISOString(),
            size: 4_920_753_328,
            digest: '0'.repeat(64),
            details: { format: 'gguf', family: 'llama', parameter_size: '8.0B', quantization_level: 'Q4_K_M' },
          })),
        });
      } else if (req.method === 'GET' && url.pathname === '/api/ps') {
        sendJson(res, 200, { models: [] });
      } else if (req.method === 'GET' && url.pathname === '/__fake/state') {
        // Not Ollama's: lets a test see what a containerised stand-in (the "runner") was sent
        // and which environment and user it runs with.
        const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(OLLAMA_|LLAMA_|NVIDIA_|HOME$)/.test(k)));
        sendJson(res, 200, { requests: state.requests.filter((r) => !r.path.startsWith('/__fake')), loads: state.loads, env, uid: process.getuid?.() });
      } else if (req.method === 'POST' && url.pathname === '/api/embed') {
        answerEmbed(res, b, state.options.models);
      } else if (req.method === 'POST' && (url.pathname === '/api/chat' || url.pathname === '/api/generate')) {
        const chat = url.pathname === '/api/chat';
        if (chat && !Array.isArray(b.messages)) return sendJson(res, 400, { error: 'messages is required' });
        const files = state.options.modelsDir ? await listModelFiles(state.options.modelsDir) : undefined;
        const known = files ? files.map((m) => m.name) : state.options.models;
        if (known && !known.some((k) => sameModel(k, model))) return sendJson(res, 404, { error: `model '${model}' not found` });
        // server/routes.go: a model without the completion capability is refused before loading.
        if (files?.find((m) => sameModel(m.name, model))?.embedding)
          return sendJson(res, 400, { error: `"${model}" does not support ${chat ? 'chat' : 'generate'}` });
        const options = (b.options ?? {}) as { num_ctx?: number; num_predict?: number };
        const numCtx = typeof options.num_ctx === 'number' ? options.num_ctx : 'auto';
        const loaded = state.loads.at(-1);
        if (!loaded || loaded.model !== model || loaded.numCtx !== numCtx) state.loads.push({ model, numCtx });
        const thinks = (state.options.thinkingModels ?? []).includes(model) && b.think !== false;
        // Ollama treats an empty message list or prompt as "load the model" and answers done at once.
        if (chat && (b.messages as unknown[]).length === 0) {
          return sendJson(res, 200, {
            model,
            created_at: new Date().toISOString(),
            message: { role: 'assistant', content: '' },
            done_reason: 'load',
            done: true,
          });
        }
        if (!chat && (typeof b.prompt !== 'string' || b.prompt === '')) {
          return sendJson(res, 200, { model, created_at: new Date().toISOString(), response: '', done_reason: 'load', done: true });
        }
        const shape = chat
          ? (content: string) => ({ message: thinks ? { role: 'assistant', content: '', thinking: content } : { role: 'assistant', content } })
          : (content: string) => (thinks ? { response: '', thinking: content } : { response: content });
        await stream(req, res, model, streaming, shape, options.num_predict);
      } else {
        sendJson(res, 404, { error: 'not found' });
      }
    } catch (err) {
      if (!res.headersSent) sendJson(res, 500, { error: String(err) });
      else res.destroy();
    }
  });
  state.server = server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port ?? 0, listen.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  state.port = addr.port;
  const host = addr.address === '0.0.0.0' || addr.address === '::' ? '127.0.0.1' : addr.address;
  state.url = `http://${host}:${addr.port}`;
  return state;
}

function tagsEntry(m: Awaited<ReturnType<typeof listModelFiles>>[number]) {
  return {
    name: m.name,
    model: m.name,
    modified_at: new Date(0).toISOString(),
    size: m.size,
    digest: createHash('sha256').update(m.name).digest('hex'),
    details: {
      parent_model: '',
      format: 'gguf',
      family: m.family ?? '',
      families: m.family ? [m.family] : null,
      parameter_size: '',
      quantization_level: m.quantization ?? '',
    },
  };
}

/** `POST /api/show`: details and `model_info` (the GGUF keys), 404 `model 'x' not found` (server/routes.go ShowHandler). */
async function showModel(res: ServerResponse, modelsDir: string, model: string): Promise<void> {
  const name = taggedModelName(model);
  const m = (await listModelFiles(modelsDir)).find((x) => x.name === name);
  if (!m) return sendJson(res, 404, { error: `model '${model}' not found` });
  const manifest = JSON.parse(await readFile(manifestPath(modelsDir, name), 'utf8')) as { layers: Array<{ mediaType: string; digest: string }> };
  const layer = manifest.layers.find((l) => l.mediaType === 'application/vnd.ollama.image.model');
  const info = layer ? Object.fromEntries(await readGgufHeader(blobPath(modelsDir, layer.digest))) : {};
  sendJson(res, 200, {
    license: '',
    modelfile: `# Modelfile generated by "ollama show"\nFROM ${name}\n`,
    parameters: '',
    template: '{{ .Prompt }}',
    details: tagsEntry(m).details,
    model_info: info,
    capabilities: m.embedding ? ['embedding'] : ['completion'],
    modified_at: new Date(0).toISOString(),
  });
}

/**
 * `POST /api/pull`: NDJSON progress as Ollama streams it (server/images.go PullModel):
 * `pulling manifest`, then per layer `pulling <digest12>` with `digest`, `total` and `completed`,
 * `verifying sha256 digest`, `writing manifest`, `success`. An unknown name is a 200 stream whose
 * line is `{"error":"pull model manifest: file does not exist"}`, as the real one answers.
 */
async function pullModel(res: ServerResponse, opts: FakeOllamaOptions, model: string, streaming: boolean): Promise<void> {
  const modelsDir = opts.modelsDir!;
  const name = taggedModelName(model);
  const spec = opts.registry?.[name] ?? opts.registry?.[model];
  const lines: object[] = [];
  const emit = async (line: object) => {
    if (!streaming) return void lines.push(line);
    if (!res.headersSent) res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.write(JSON.stringify(line) + '\n');
    if (opts.pullDelayMs) await sleep(opts.pullDelayMs);
  };
  await emit({ status: 'pulling manifest' });
  if (!spec) {
    const err = { error: 'pull model manifest: file does not exist' };
    if (!streaming) return sendJson(res, 500, err);
    return void res.end(JSON.stringify(err) + '\n');
  }
  const header = ggufHeader({
    'general.architecture': spec.family,
    'general.name': name,
    [`${spec.family}.context_length`]: spec.contextLength,
    ...(spec.blockCount ? { [`${spec.family}.block_count`]: spec.blockCount } : {}),
    ...(spec.embeddingLength ? { [`${spec.family}.embedding_length`]: spec.embeddingLength } : {}),
    ...(spec.headCount ? { [`${spec.family}.attention.head_count`]: spec.headCount } : {}),
    ...(spec.headCountKv ? { [`${spec.family}.attention.head_count_kv`]: spec.headCountKv } : {}),
    ...(spec.poolingType !== undefined ? { [`${spec.family}.pooling_type`]: spec.poolingType } : {}),
  });
  const size = Math.max(spec.size, header.length);
  const modelDigest = `sha256:${createHash('sha256').update(header).update(String(size)).digest('hex')}`;
  const config = Buffer.from(
    JSON.stringify({
      model_format: 'gguf',
      model_family: spec.family,
      model_families: [spec.family],
      model_type: spec.parameterSize ?? '',
      file_type: spec.quantization,
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [modelDigest] },
    }),
  );
  const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
  mkdirSync(join(modelsDir, 'blobs'), { recursive: true });
  // The weights: the header, then a hole up to the size (sparse, like a real file, costs no disk).
  const fh = await open(blobPath(modelsDir, modelDigest), 'w', 0o644);
  const steps = 4;
  try {
    await fh.write(header, 0, header.length, 0);
    for (let i = 1; i <= steps; i++) {
      const completed = Math.floor((size * i) / steps);
      await fh.truncate(completed);
      await emit({ status: `pulling ${modelDigest.slice(7, 19)}`, digest: modelDigest, total: size, completed });
    }
  } finally {
    await fh.close();
  }
  writeFileSync(blobPath(modelsDir, configDigest), config, { mode: 0o644 });
  await emit({ status: `pulling ${configDigest.slice(7, 19)}`, digest: configDigest, total: config.length, completed: config.length });
  await emit({ status: 'verifying sha256 digest' });
  await emit({ status: 'writing manifest' });
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: configDigest, size: config.length },
    layers: [{ mediaType: 'application/vnd.ollama.image.model', digest: modelDigest, size }],
  };
  const path = manifestPath(modelsDir, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(manifest), { mode: 0o644 });
  if (!streaming) return sendJson(res, 200, { status: 'success' });
  await emit({ status: 'success' });
  res.end();
}

/**
 * `DELETE /api/delete` `{model}`: removes the manifest and every blob no other manifest uses
 * (server/images.go DeleteModel -> deleteUnusedLayers); 200 with an empty body, or 404
 * `model 'x' not found`.
 */
async function deleteModel(res: ServerResponse, modelsDir: string, model: string): Promise<void> {
  const name = taggedModelName(model);
  const path = manifestPath(modelsDir, name);
  if (!existsSync(path)) return sendJson(res, 404, { error: `model '${model}' not found` });
  await rm(path);
  const used = new Set<string>();
  for (const m of await listModelFiles(modelsDir)) {
    const mf = JSON.parse(await readFile(manifestPath(modelsDir, m.name), 'utf8')) as { config?: { digest: string }; layers?: Array<{ digest: string }> };
    for (const l of [...(mf.layers ?? []), ...(mf.config ? [mf.config] : [])]) used.add(l.digest.replace(':', '-'));
  }
  for (const f of readdirSync(join(modelsDir, 'blobs'))) if (f.startsWith('sha256-') && !used.has(f)) await rm(join(modelsDir, 'blobs', f), { force: true });
  res.writeHead(200, { 'content-length': 0 });
  res.end();
}

/**
 * `POST /api/embed` as Ollama answers it (server/routes.go EmbedHandler): `input` a string or a
 * list of strings; `{ model, embeddings, total_duration, load_duration, prompt_eval_count }`;
 * 404 `model "x" not found, try pulling it first` for a model it does not have; 400 for no input.
 */
function answerEmbed(res: ServerResponse, b: Record<string, unknown>, known: string[] | undefined): void {
  const model = typeof b.model === 'string' ? b.model : '';
  if (!model) return sendJson(res, 400, { error: 'model is required' });
  if (known && !known.some((k) => sameModel(k, model))) {
    return sendJson(res, 404, { error: `model "${model}" not found, try pulling it first` });
  }
  const input = typeof b.input === 'string' ? [b.input] : Array.isArray(b.input) ? b.input : undefined;
  if (!input || input.some((x) => typeof x !== 'string')) return sendJson(res, 400, { error: 'invalid input type' });
  const started = process.hrtime.bigint();
  const embeddings = (input as string[]).map(fakeEmbedding);
  sendJson(res, 200, {
    model,
    embeddings,
    total_duration: Number(process.hrtime.bigint() - started),
    load_duration: 1_000_000,
    prompt_eval_count: (input as string[]).reduce((n, s) => n + Math.ceil(s.length / 4), 0),
  });
}

/**
 * The models Ollama would find in a models directory: one manifest file per model at
 * `manifests/<host>/<namespace>/<model>/<tag>`, named `model:tag` for registry.ollama.ai/library
 * (ollama v0.32.15 types/model/name.go, Filepath and DisplayShortest).
 */
export function modelsInDir(modelsDir: string): string[] {
  const root = join(modelsDir, 'manifests');
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const e of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const parts = relative(root, join(e.parentPath, e.name)).split('/');
    if (parts.length !== 4) continue;
    const [host, ns, model, tag] = parts as [string, string, string, string];
    out.push(host === 'registry.ollama.ai' && ns === 'library' ? `${model}:${tag}` : `${host}/${ns}/${model}:${tag}`);
  }
  return out;
}

/**
 * Entry point when the stand-in runs as its own process (the process runtime, the test image).
 * Listens on `OLLAMA_HOST` (`host:port`, port 0 = any), like Ollama; prints one JSON line
 * `{"listening":port}` on stdout. Like `ollama serve`, it first creates `$OLLAMA_MODELS/blobs`
 * and exits 1 when it cannot (server/routes.go Serve), and then knows the models whose
 * manifests are there. `FAKE_OLLAMA_WRITE_KEY=1` writes `$HOME/.ollama/id_ed25519` at start as
 * Ollama does, so a container test sees where that key lands.
 */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<FakeOllama> {
  const [host, port] = (env.OLLAMA_HOST ?? '127.0.0.1:11434').split(':');
  const opts: FakeOllamaOptions = {};
  if (env.OLLAMA_MODELS) {
    try {
      mkdirSync(join(env.OLLAMA_MODELS, 'blobs'), { recursive: true });
    } catch (err) {
      process.stderr.write(`Error: ${(err as Error).message}: ensure path elements are traversable\n`);
      process.exit(1);
    }
    // Read on every request, as Ollama does: pulls and deletes (where the directory is
    // writable, as in the pull container) change what it lists and serves.
    opts.modelsDir = env.OLLAMA_MODELS;
    if (env.FAKE_OLLAMA_REGISTRY) opts.registry = JSON.parse(env.FAKE_OLLAMA_REGISTRY) as Record<string, FakeRegistryModel>;
  }
  if (env.FAKE_OLLAMA_PULL_DELAY_MS) opts.pullDelayMs = Number(env.FAKE_OLLAMA_PULL_DELAY_MS);
  if (env.FAKE_OLLAMA_WRITE_KEY === '1') {
    const dir = join(env.HOME ?? '/root', '.ollama');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'id_ed25519'), 'fake private key\n', { mode: 0o600 });
  }
  if (env.FAKE_OLLAMA_TOKENS) opts.tokens = JSON.parse(env.FAKE_OLLAMA_TOKENS) as string[];
  if (env.FAKE_OLLAMA_TOKEN_DELAY_MS) opts.tokenDelayMs = Number(env.FAKE_OLLAMA_TOKEN_DELAY_MS);
  if (env.FAKE_OLLAMA_MODE) opts.mode = env.FAKE_OLLAMA_MODE as FakeOllamaOptions['mode'];
  if (env.FAKE_OLLAMA_THINKING) opts.thinkingModels = env.FAKE_OLLAMA_THINKING.split(',');
  const fake = await startFakeOllama(opts, { host: host || '127.0.0.1', port: Number(port ?? 11434) });
  process.stdout.write(JSON.stringify({ listening: fake.port }) + '\n');
  const stop = () => void fake.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return fake;
}
