import { open, readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { splitModelName } from './model-names.js';

/**
 * What the project shows about a model: Ollama's own metadata, read from the files `ollama pull`
 * leaves in the models directory (ollama v0.32.15 manifest/manifest.go and server/images.go):
 * `manifests/<host>/<namespace>/<model>/<tag>` (JSON: `config` and `layers`, each `{mediaType,
 * digest, size}`), the config blob (`model_format`, `model_family`, `file_type`) and the GGUF
 * header of the model layer (`<arch>.context_length` and the sizes a KV cache estimate needs).
 */
export interface ModelFileInfo {
  name: string;
  /** Bytes of every layer plus the config, as Ollama's `/api/tags` counts them. */
  size: number;
  family?: string;
  quantization?: string;
  contextLength?: number;
  /** From the GGUF header, for the KV cache estimate. */
  blockCount?: number;
  embeddingLength?: number;
  headCount?: number;
  headCountKv?: number;
  /**
   * An embedding model: its GGUF names a pooling type, which is how Ollama decides a model's
   * capability is `embedding` rather than `completion` (server/images.go Capabilities). It answers
   * /api/embed and refuses chats.
   */
  embedding?: boolean;
}

interface ManifestLayer {
  mediaType: string;
  digest: string;
  size: number;
}

interface Manifest {
  config?: ManifestLayer;
  layers?: ManifestLayer[];
}

const MODEL_MEDIA_TYPE = 'application/vnd.ollama.image.model';
/** The header keys are at the start; tokenizer arrays follow. Stop reading after this much. */
const GGUF_HEADER_LIMIT = 32 * 1024 * 1024;

/** `sha256:<hex>` -> `blobs/sha256-<hex>` (Ollama's on-disk blob name). */
export function blobPath(modelsDir: string, digest: string): string {
  if (!/^sha256[:-][0-9a-f]{64}$/.test(digest)) throw new Error(`not a blob digest: ${digest}`);
  return join(modelsDir, 'blobs', digest.replace(':', '-'));
}

/**
 * The manifest path of a model reference: `name[:tag]` under registry.ollama.ai/library, or
 * `host/namespace/name[:tag]` (types/model/name.go, Filepath). Tag defaults to `latest`.
 */
export function manifestPath(modelsDir: string, model: string): string {
  const { path, tag } = splitModelName(model);
  const parts = path.split('/');
  const full = parts.length === 1 ? ['registry.ollama.ai', 'library', parts[0]!] : parts.length === 2 ? ['registry.ollama.ai', ...parts] : parts;
  return join(modelsDir, 'manifests', ...full, tag);
}

/** Manifest files under `manifests/`, with the short name Ollama shows for each. */
async function manifestFiles(modelsDir: string): Promise<Array<{ name: string; path: string }>> {
  const root = join(modelsDir, 'manifests');
  let entries;
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch {
    return [];
  }
  const out: Array<{ name: string; path: string }> = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    const parts = relative(root, path).split('/');
    if (parts.length !== 4) continue;
    const [host, ns, model, tag] = parts as [string, string, string, string];
    out.push({ name: host === 'registry.ollama.ai' && ns === 'library' ? `${model}:${tag}` : `${host}/${ns}/${model}:${tag}`, path });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Every model in the models directory with its metadata; unreadable parts are left out, never thrown. */
export async function listModelFiles(modelsDir: string): Promise<ModelFileInfo[]> {
  const out: ModelFileInfo[] = [];
  for (const m of await manifestFiles(modelsDir)) {
    let manifest: Manifest;
    try {
      manifest = JSON.parse(await readFile(m.path, 'utf8')) as Manifest;
    } catch {
      continue; // Half-written (a pull in progress) or not a manifest.
    }
    const layers = Array.isArray(manifest.layers) ? manifest.layers : [];
    const size = [...layers, ...(manifest.config ? [manifest.config] : [])].reduce((s, l) => s + (Number.isFinite(l.size) ? l.size : 0), 0);
    const info: ModelFileInfo = { name: m.name, size };
    if (manifest.config?.digest) {
      try {
        const config = JSON.parse(await readFile(blobPath(modelsDir, manifest.config.digest), 'utf8')) as { model_family?: string; file_type?: string };
        if (config.model_family) info.family = config.model_family;
        if (config.file_type) info.quantization = config.file_type;
      } catch {
        // No config blob: the manifest alone still names and sizes the model.
      }
    }
    const model = layers.find((l) => l.mediaType === MODEL_MEDIA_TYPE);
    if (model) Object.assign(info, await modelShape(modelsDir, model.digest));
    out.push(info);
  }
  return out;
}

// Blobs are content-addressed, so a digest's header never changes: parse each once.
const shapes = new Map<string, Partial<ModelFileInfo>>();

async function modelShape(modelsDir: string, digest: string): Promise<Partial<ModelFileInfo>> {
  const known = shapes.get(digest);
  if (known) return known;
  let shape: Partial<ModelFileInfo>;
  try {
    shape = ggufShape(await readGgufHeader(blobPath(modelsDir, digest)));
  } catch {
    return {}; // Not GGUF (or not there yet): no context length, and try again next time.
  }
  if (shapes.size >= 256) shapes.delete(shapes.keys().next().value!);
  shapes.set(digest, shape);
  return shape;
}

/** The model keys of a GGUF header the listing uses. */
export function ggufShape(kv: Map<string, unknown>): Partial<ModelFileInfo> {
  const arch = kv.get('general.architecture');
  if (typeof arch !== 'string') return {};
  const num = (k: string) => {
    const v = kv.get(`${arch}.${k}`);
    return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
  };
  const shape: Partial<ModelFileInfo> = {};
  const set = (key: keyof ModelFileInfo, v: number | undefined) => {
    if (v !== undefined) (shape as Record<string, number>)[key] = v;
  };
  set('contextLength', num('context_length'));
  set('blockCount', num('block_count'));
  set('embeddingLength', num('embedding_length'));
  set('headCount', num('attention.head_count'));
  set('headCountKv', num('attention.head_count_kv'));
  if (kv.has(`${arch}.pooling_type`)) shape.embedding = true;
  return shape;
}

/**
 * Reads the key/value section of a GGUF file (ggml docs/gguf.md: magic, version, tensor count,
 * kv count, then `key: string, type: u32, value`), scalars only: arrays are skipped over, the
 * tokenizer's keys end the read, and it stops at {@link GGUF_HEADER_LIMIT} in any case.
 */
export async function readGgufHeader(path: string): Promise<Map<string, unknown>> {
  const fh = await open(path, 'r');
  try {
    let buf = Buffer.alloc(0);
    let fileOffset = 0;
    let pos = 0;
    let eof = false;
    const need = async (n: number) => {
      while (buf.length - pos < n) {
        if (eof || fileOffset >= GGUF_HEADER_LIMIT) throw new Error('GGUF header truncated');
        const chunk = Buffer.alloc(256 * 1024);
        const { bytesRead } = await fh.read(chunk, 0, chunk.length, fileOffset);
        if (bytesRead === 0) eof = true;
        fileOffset += bytesRead;
        buf = Buffer.concat([buf.subarray(pos), chunk.subarray(0, bytesRead)]);
        pos = 0;
      }
    };
    const u32 = async () => (await need(4), (pos += 4), buf.readUInt32LE(pos - 4));
    const u64 = async () => (await need(8), (pos += 8), buf.readBigUInt64LE(pos - 8));
    const str = async () => {
      const len = Number(await u64());
      if (len > 1 << 20) throw new Error('GGUF string too long');
      await need(len);
      pos += len;
      return buf.toString('utf8', pos - len, pos);
    };
    const SCALAR: Record<number, [number, (b: Buffer, o: number) => unknown]> = {
      0: [1, (b, o) => b.readUInt8(o)],
      1: [1, (b, o) => b.readInt8(o)],
      2: [2, (b, o) => b.readUInt16LE(o)],
      3: [2, (b, o) => b.readInt16LE(o)],
      4: [4, (b, o) => b.readUInt32LE(o)],
      5: [4, (b, o) => b.readInt32LE(o)],
      6: [4, (b, o) => b.readFloatLE(o)],
      7: [1, (b, o) => b.readUInt8(o) !== 0],
      10: [8, (b, o) => Number(b.readBigUInt64LE(o))],
      11: [8, (b, o) => Number(b.readBigInt64LE(o))],
      12: [8, (b, o) => b.readDoubleLE(o)],
    };
    const value = async (type: number): Promise<unknown> => {
      if (type === 8) return str();
      if (type === 9) {
        const inner = await u32();
        const count = Number(await u64());
        for (let i = 0; i < count; i++) await value(inner);
        return undefined;
      }
      const s = SCALAR[type];
      if (!s) throw new Error(`GGUF value type ${type} unknown`);
      await need(s[0]);
      pos += s[0];
      return s[1](buf, pos - s[0]);
    };
    await need(4);
    if (buf.toString('latin1', 0, 4) !== 'GGUF') throw new Error('not a GGUF file');
    pos = 4;
    const version = await u32();
    if (version < 2) throw new Error(`GGUF version ${version} not supported`);
    await u64(); // tensor count
    const kvCount = Number(await u64());
    const kv = new Map<string, unknown>();
    for (let i = 0; i < kvCount; i++) {
      const key = await str();
      // llama.cpp's converters write the model's keys before the tokenizer's (megabytes of
      // vocabulary the listing does not need).
      if (key.startsWith('tokenizer.') && kv.has('general.architecture')) break;
      const v = await value(await u32());
      if (v !== undefined) kv.set(key, v);
    }
    return kv;
  } finally {
    await fh.close();
  }
}

/** Writes a GGUF header with scalar keys (strings and u32/u64 numbers): test weights and the stand-in's pulls. */
export function ggufHeader(kv: Record<string, string | number>): Buffer {
  const parts: Buffer[] = [Buffer.from('GGUF', 'latin1')];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  const u64 = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    return b;
  };
  const str = (s: string) => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);
  parts.push(u32(3), u64(0), u64(Object.keys(kv).length));
  for (const [k, v] of Object.entries(kv)) {
    parts.push(str(k));
    if (typeof v === 'string') parts.push(u32(8), str(v));
    else parts.push(u32(4), u32(v));
  }
  return Buffer.concat(parts);
}
