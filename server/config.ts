import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { sandboxConfigFromEnv, type SandboxConfig } from '../sandbox/config.js';

const boolish = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', ''])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

const csv = z
  .string()
  .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean));

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  PUBLIC_URL: z.url().optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection string').optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  SERVER_KEY: z
    .string()
    .regex(/^[A-Za-z0-9+/_-]{43}=?$/, 'must be 32 bytes, base64 or base64url')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MAX_UPLOAD_MB: z.coerce.number().int().min(1).max(100_000).default(1024),
  MAX_JSON_KB: z.coerce.number().int().min(16).max(1_048_576).default(1024),
  MAX_IMPORT_MB: z.coerce.number().int().min(1).max(200_000).default(20_480),
  PDF_EXTRACT_MAX_MB: z.coerce.number().int().min(1).max(1024).default(64),
  PDF_EXTRACT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(20_000),
  SESSION_TTL_HOURS: z.coerce.number().int().min(1).max(24 * 365).default(24 * 14),
  RATE_LIMIT_CHAT_PER_MIN: z.coerce.number().int().min(1).max(100_000).default(30),
  RATE_LIMIT_AUTH_PER_MIN: z.coerce.number().int().min(1).max(100_000).default(20),
  // Export, re-import and operations (issue 6)
  RATE_LIMIT_EXPORT_PER_HOUR: z.coerce.number().int().min(1).max(100_000).default(12),
  /** When set, /metrics answers only `Authorization: Bearer <token>`. */
  METRICS_TOKEN: z.string().min(16).optional(),
  KDF_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  TRUST_PROXY: boolish.default(false),
  ALLOW_HTTP_LOOPBACK: boolish.default(false),
  // History and trash (issue 16)
  TRASH_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(30),
  /** Earlier versions kept per item (0 turns history off); the oldest go first. */
  HISTORY_MAX_VERSIONS: z.coerce.number().int().min(0).max(10_000).default(100),
  HISTORY_MAX_AGE_DAYS: z.coerce.number().int().min(1).max(36_500).default(365),
  // Integrations
  EPIC_FHIR_BASE_URLS: csv.default([]),
  EPIC_CLIENT_ID: z.string().optional(),
  EPIC_CLIENT_SECRET: z.string().optional(),
  GOOGLE_CLIENT_ID: z.string().optional(),
  GOOGLE_CLIENT_SECRET: z.string().optional(),
  GOOGLE_ISSUER: z.url().default('https://accounts.google.com'),
  GOOGLE_HEALTH_API_URL: z.url().default('https://health.googleapis.com'),
});

export type Env = z.infer<typeof EnvSchema>;

export interface Config extends Readonly<Omit<Env, 'SERVER_KEY'>> {
  readonly publicUrl: URL;
  readonly dataDir: string;
  readonly filesDir: string;
  /** 32 bytes. Encrypts connector refresh tokens only: it cannot open any vault. */
  readonly serverKey: Buffer;
  readonly maxUploadBytes: number;
  readonly maxJsonBytes: number;
  readonly secureCookies: boolean;
  /** SANDBOX_* and OLLAMA_* variables, parsed by the sandbox's own schema. */
  readonly sandbox: SandboxConfig;
}

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  ${i}`).join('\n')}`);
  }
}

/** Parses the environment once. Every bad variable is named in one error; nothing is echoed back. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(clean);
  const issues = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
  let sandbox: SandboxConfig | undefined;
  try {
    sandbox = sandboxConfigFromEnv(clean);
  } catch (err) {
    const zerr = err as z.ZodError;
    issues.push(...(zerr.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  if (!parsed.success || !sandbox) throw new ConfigError(issues);
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const publicUrl = new URL(e.PUBLIC_URL ?? `http://localhost:${e.PORT}`);
  const { SERVER_KEY, ...rest } = e;
  return Object.freeze({
    ...rest,
    publicUrl,
    dataDir,
    filesDir: path.join(dataDir, 'files'),
    serverKey: SERVER_KEY ? decodeKey(SERVER_KEY) : loadOrCreateServerKey(dataDir),
    maxUploadBytes: e.MAX_UPLOAD_MB * 1024 * 1024,
    maxJsonBytes: e.MAX_JSON_KB * 1024,
    secureCookies: publicUrl.protocol === 'https:',
    sandbox,
  });
}

function decodeKey(text: string): Buffer {
  const key = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== 32) throw new ConfigError(['SERVER_KEY: must decode to exactly 32 bytes']);
  return key;
}

/** Generated once with mode 0600 so a fresh install needs no setup. */
function loadOrCreateServerKey(dataDir: string): Buffer {
  const file = path.join(dataDir, 'server.key');
  if (existsSync(file)) return decodeKey(readFileSync(file, 'utf8').trim());
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return key;
}
