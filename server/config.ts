import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { sandboxConfigFromEnv, type SandboxConfig } from '../sandbox/config.js';
import type { StorageSpec } from './storage/object-store.js';

const boolish = z.enum(['1', '0', 'true', 'false', 'yes', 'no', '']).transform((v) => v === '1' || v === 'true' || v === 'yes');

const csv = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

/**
 * Which proxies may set the client address (X-Forwarded-For): a hop count, or addresses/CIDRs
 * (and proxy-addr's `loopback`, `linklocal`, `uniquelocal`). Never "all": behind a proxy that
 * appends to the header, trusting every hop lets a client pick its own address and so escape
 * every per-IP limit.
 */
const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const trustProxy = z
  .string()
  .trim()
  .transform((v, ctx): false | number | string[] => {
    if (v === '' || v === '0' || v === 'false' || v === 'no') return false;
    if (/^\d+$/.test(v)) return Number(v);
    const list = v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = list.filter((a) => !PROXY_NAMES.has(a) && !isAddressOrCidr(a));
    if (bad.length > 0 || list.length === 0) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be a hop count (e.g. 1) or a comma-separated list of proxy addresses or CIDRs; "true"/"all" is not accepted',
      });
      return z.NEVER;
    }
    return list;
  });

function isAddressOrCidr(a: string): boolean {
  const [ip, bits, ...rest] = a.split('/');
  const v = isIP(ip ?? '');
  if (!v || rest.length > 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (v === 4 ? 32 : 128);
}

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080).describe('TCP port the server listens on.'),
  HOST: z.string().min(1).default('0.0.0.0').describe('Address the server binds to.'),
  PUBLIC_URL: z
    .url()
    .optional()
    .meta({ defaultText: '`http://localhost:$PORT`' })
    .describe(
      'The origin users reach. OAuth callbacks are built from it; `https://` makes cookies Secure. Once set, browsers may write only from this origin; unset, from whatever address they used.',
    ),
  DATA_DIR: z.string().min(1).default('./data').describe('Embedded database, encrypted files, imports in progress and the generated `server.key`.'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection string')
    .optional()
    .meta({ defaultText: 'unset: embedded PGlite' })
    .describe('A PostgreSQL connection string (`postgres://user@host:5432/db`).'),
  DATABASE_POOL_MAX: z.coerce
    .number()
    .int()
    .min(1)
    .max(200)
    .default(10)
    .describe('Most pooled PostgreSQL connections the server opens (plus one pipelined connection for reads by id, and the job listener).'),
  SERVER_KEY: z
    .string()
    .regex(/^[A-Za-z0-9+/_-]{43}=?$/, 'must be 32 bytes, base64 or base64url')
    .optional()
    .meta({ defaultText: 'generated into `DATA_DIR`' })
    .describe(
      '32 bytes, base64. Encrypts connector refresh tokens and sync reports, keys server-side MACs and seals activity cursors; it cannot open any vault.',
    ),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level.'),
  MAX_UPLOAD_MB: z.coerce.number().int().min(1).max(100_000).default(1024).describe('Largest file upload, in MiB.'),
  MAX_JSON_KB: z.coerce
    .number()
    .int()
    .min(16)
    .max(1_048_576)
    .default(1024)
    .describe(
      'Largest JSON request body, in KiB (item create and update take up to 6,065,536 bytes whatever this is, so any note within its 1,000,000 characters fits).',
    ),
  MAX_IMPORT_MB: z.coerce.number().int().min(1).max(200_000).default(20_480).describe('Largest health import or export re-import, in MiB.'),
  IMPORT_BUDGET_BASE_S: z.coerce
    .number()
    .min(0)
    .max(86_400)
    .default(300)
    .describe('Time (s) an import job may run, plus `IMPORT_BUDGET_S_PER_MB` per MB of input; past it the job fails with a clear message.'),
  IMPORT_BUDGET_S_PER_MB: z.coerce.number().min(0).max(3600).default(2).describe('Seconds of import time budget added per MB of input.'),
  PDF_EXTRACT_MAX_MB: z.coerce.number().int().min(1).max(1024).default(64).describe('PDFs above this size (MiB) are stored without text extraction.'),
  PDF_EXTRACT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(600_000)
    .default(20_000)
    .describe("Time allowed to extract one PDF's text before it is stored without."),
  SESSION_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 365)
    .default(24 * 14)
    .describe('How long a sign-in lasts.'),
  RATE_LIMIT_CHAT_PER_MIN: z.coerce.number().int().min(1).max(100_000).default(30).describe('Chat requests per user per minute.'),
  RATE_LIMIT_AUTH_PER_MIN: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(20)
    .describe('Sign-in, registration, recovery and account deletion attempts per address per minute.'),
  // Export, re-import and operations (issue 6)
  RATE_LIMIT_EXPORT_PER_HOUR: z.coerce.number().int().min(1).max(100_000).default(12).describe('Exports and re-imports per user per hour.'),
  METRICS_TOKEN: z.string().min(16).optional().describe('When set, `/metrics` answers only `Authorization: Bearer <token>` (compared in constant time).'),
  KDF_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(2)
    .describe('Passphrase key derivations (memory-hard Argon2id) run at once; more wait their turn.'),
  TRUST_PROXY: trustProxy
    .default(false)
    .meta({ defaultText: 'unset: none' })
    .describe('How many proxy hops (e.g. `1`), or which proxy addresses/CIDRs, to trust for the client address in `X-Forwarded-For`; never "all".'),
  ALLOW_HTTP_LOOPBACK: boolish.default(false).describe('Lets the sign-in, SMART and Google Health endpoints be `http://127.0.0.1` (tests only).'),
  SIGNUP: z
    .enum(['open', 'invite', 'closed'])
    .default('open')
    .describe('Who may create an account: `open` (anyone), `invite` (an invite code from an admin or `npm run invite`) or `closed`.'),
  TRASH_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .max(36_500)
    .default(30)
    .describe('Items in the trash are deleted for good (with their versions, postings and unshared file bytes) after this many days.'),
  HISTORY_MAX_VERSIONS: z.coerce
    .number()
    .int()
    .min(0)
    .max(10_000)
    .default(100)
    .describe('Earlier versions kept per item, oldest pruned first; 0 turns history off.'),
  HISTORY_MAX_AGE_DAYS: z.coerce.number().int().min(1).max(36_500).default(365).describe('Earlier versions older than this many days are pruned.'),
  // Integrations
  EPIC_FHIR_BASE_URLS: csv.default([]).describe('Comma-separated SMART on FHIR base URLs a user may connect to.'),
  EPIC_CLIENT_ID: z.string().optional().describe('The client registered with Epic for SMART on FHIR.'),
  EPIC_CLIENT_SECRET: z.string().optional().describe("The Epic client's secret; unset = a public client (PKCE only)."),
  GOOGLE_CLIENT_ID: z.string().optional().describe('Sign in with Google and the Google Health connector; unset = both hidden.'),
  GOOGLE_CLIENT_SECRET: z.string().optional().describe("The Google client's secret."),
  GOOGLE_ISSUER: z.url().default('https://accounts.google.com').describe('OpenID issuer, discovered through `/.well-known/openid-configuration`.'),
  GOOGLE_HEALTH_API_URL: z
    .url()
    .default('https://health.googleapis.com')
    .describe("The Google Health API (Fitbit's successor), reached with the Google client above."),
  // Observability (issue 20)
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .url()
    .optional()
    .describe('OpenTelemetry traces are sent here over OTLP/HTTP (`<endpoint>/v1/traces`, e.g. `http://otel-collector:4318`); unset = tracing off.'),
  // Text extraction and OCR (issue 15)
  OCR_LANGS: z
    .string()
    .regex(/^[A-Za-z_]+(\+[A-Za-z_]+)*$/, 'must be Tesseract language codes joined by +, e.g. eng+deu')
    .default('eng')
    .describe('Tesseract languages for scanned PDFs and images (`eng+deu`); each needs its `tesseract-ocr-<lang>` package.'),
  OCR_TESSERACT_PATH: z
    .string()
    .min(1)
    .default('tesseract')
    .describe('The `tesseract` binary; a missing one marks scans "scanned, OCR not installed" until it is installed and the item is read again.'),
  OCR_PDFTOPPM_PATH: z
    .string()
    .min(1)
    .default('pdftoppm')
    .describe(
      "Poppler's `pdftoppm`, which rasterises PDF pages for OCR: pages without a text layer, and pages that are mostly a picture with only a stamp or page number as text (stdin to stdout, nothing on disk).",
    ),
  OCR_DPI: z.coerce.number().int().min(72).max(600).default(200).describe('Resolution PDF pages are rasterised at for OCR.'),
  OCR_MAX_PIXELS: z.coerce
    .number()
    .int()
    .min(10_000)
    .max(1_000_000_000)
    .default(40_000_000)
    .describe('Images (by their header) and rasterised PDF pages larger than this many pixels are refused before OCR.'),
  OCR_MAX_PAGES: z.coerce.number().int().min(1).max(10_000).default(300).describe('Most PDF pages OCR reads per document; later pages stay unread.'),
  OCR_PAGE_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(600_000)
    .default(60_000)
    .describe('Time one page or image may take in `pdftoppm` or `tesseract` before the process is killed.'),
  OCR_MEMORY_MB: z.coerce
    .number()
    .int()
    .min(64)
    .max(65_536)
    .default(1024)
    .describe('Address-space limit (MiB, via prlimit) of each `pdftoppm` and `tesseract` process.'),
  EXTRACT_MAX_MB: z.coerce
    .number()
    .int()
    .min(1)
    .max(1024)
    .default(64)
    .describe('Files above this size (MiB) are stored with the reason "too large" instead of being read.'),
  EXTRACT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(600_000)
    .default(30_000)
    .describe('Time a worker may take to read one Word, spreadsheet, slide, e-mail or HTML file.'),
  EXTRACT_MAX_UNZIPPED_MB: z.coerce
    .number()
    .int()
    .min(1)
    .max(8192)
    .default(256)
    .describe('Most bytes the entries of an Office or OpenDocument file may unpack to (zip bombs are refused before unpacking).'),
  EXTRACT_MAX_HTML_DEPTH: z.coerce
    .number()
    .int()
    .min(16)
    .max(100_000)
    .default(512)
    .describe('Deepest element nesting an HTML file may have before it is refused.'),
  EXTRACT_MAX_ATTACHMENTS: z.coerce
    .number()
    .int()
    .min(0)
    .max(10_000)
    .default(50)
    .describe('Most attachments an e-mail or mailbox turns into items of their own.'),
  // Object storage and backups (issue 19).
  STORAGE: z
    .enum(['local', 's3'])
    .default('local')
    .describe('Where encrypted files and imports in progress live: `local` (under `DATA_DIR`) or `s3` (the bucket below).'),
  S3_ENDPOINT: z
    .url()
    .optional()
    .describe('S3-compatible endpoint (MinIO, Ceph, R2…); unset = AWS S3 in `S3_REGION`. `GET /health/storage` says whether the bucket answers.'),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name')
    .optional()
    .describe('Bucket for `STORAGE=s3`; required then.'),
  S3_REGION: z.string().min(1).default('us-east-1').describe('Region of the bucket (any value for most S3-compatible servers).'),
  S3_ACCESS_KEY_ID: z.string().min(1).optional().meta({ defaultText: "the AWS SDK's default credential chain" }).describe('Access key for the bucket.'),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional().describe('Secret key for the bucket.'),
  S3_FORCE_PATH_STYLE: boolish.default(false).describe('`true` for servers that address buckets by path (`http://host/bucket/key`), such as MinIO.'),
  BACKUP_AGE_RECIPIENT: z
    .string()
    .regex(/^age1[0-9a-z]{58}$/, 'must be an age X25519 recipient (age1…)')
    .optional()
    .describe("`npm run backup`: the operator's age public key every backup is encrypted to."),
  BACKUP_TARGET: z
    .string()
    .min(1)
    .optional()
    .describe('`npm run backup`: a directory, or `s3://bucket/prefix` (reached with the `S3_*` endpoint and credentials).'),
  BACKUP_INTERVAL_HOURS: z.coerce
    .number()
    .min(0)
    .default(0)
    .describe('`npm run backup`: 0 = one backup and exit; otherwise keep running and back up this often.'),
  BACKUP_KEEP: z.coerce.number().int().min(1).default(7).describe('`npm run backup`: how many backups to keep in `BACKUP_TARGET`; older ones are deleted.'),
  // Several instances on one PostgreSQL (issue 19)
  JOB_LEASE_S: z.coerce
    .number()
    .min(1)
    .max(3600)
    .default(30)
    .describe("How long an instance's claim on a job holds without a heartbeat; a job of an instance that died resumes elsewhere after this."),
  SYNC_TICK_S: z.coerce.number().min(1).max(3600).default(60).describe('How often each instance looks for integrations whose background sync is due.'),
  SYNC_COOLDOWN_S: z.coerce
    .number()
    .min(0)
    .max(86_400)
    .default(300)
    .describe('Least time between the end of a sync someone asked for ("Sync now") and their next one, per connection; 0 = none.'),
});

export type Env = z.infer<typeof EnvSchema>;

/** The server's own variables, for the generated configuration tables (npm run docs:env). */
export const SERVER_ENV_SCHEMA = EnvSchema;

export interface Config extends Readonly<Omit<Env, 'SERVER_KEY'>> {
  readonly publicUrl: URL;
  readonly dataDir: string;
  readonly filesDir: string;
  /** 32 bytes. Encrypts connector refresh tokens and sync reports, keys server-side MACs and seals activity cursors: it cannot open any vault. */
  readonly serverKey: Buffer;
  readonly maxUploadBytes: number;
  readonly maxJsonBytes: number;
  readonly secureCookies: boolean;
  /** SANDBOX_* and OLLAMA_* variables, parsed by the sandbox's own schema. */
  readonly sandbox: SandboxConfig;
  /** The file store (STORAGE and S3_*); areas such as `files` and `imports` sit inside it. */
  readonly storage: StorageSpec;
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
  if (parsed.success && parsed.data.STORAGE === 's3' && !parsed.data.S3_BUCKET) issues.push('S3_BUCKET: required when STORAGE=s3');
  if (!parsed.success || !sandbox || issues.length > 0) throw new ConfigError(issues);
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  dataDirStep(() => mkdirSync(dataDir, { recursive: true, mode: 0o700 }));
  const publicUrl = new URL(e.PUBLIC_URL ?? `http://localhost:${e.PORT}`);
  const { SERVER_KEY, ...rest } = e;
  return Object.freeze({
    ...rest,
    publicUrl,
    dataDir,
    filesDir: path.join(dataDir, 'files'),
    serverKey: SERVER_KEY ? decodeKey(SERVER_KEY) : dataDirStep(() => loadOrCreateServerKey(dataDir)),
    maxUploadBytes: e.MAX_UPLOAD_MB * 1024 * 1024,
    maxJsonBytes: e.MAX_JSON_KB * 1024,
    secureCookies: publicUrl.protocol === 'https:',
    sandbox,
    storage: storageSpec(e, dataDir),
  });
}

function storageSpec(e: Env, dataDir: string): StorageSpec {
  if (e.STORAGE === 'local') return { kind: 'local', root: dataDir };
  return {
    kind: 's3',
    bucket: e.S3_BUCKET!,
    region: e.S3_REGION,
    forcePathStyle: e.S3_FORCE_PATH_STYLE,
    prefix: '',
    ...(e.S3_ENDPOINT ? { endpoint: e.S3_ENDPOINT } : {}),
    ...(e.S3_ACCESS_KEY_ID ? { accessKeyId: e.S3_ACCESS_KEY_ID } : {}),
    ...(e.S3_SECRET_ACCESS_KEY ? { secretAccessKey: e.S3_SECRET_ACCESS_KEY } : {}),
  };
}

/**
 * A file-system step in DATA_DIR: its failure (not writable, a file in the way, a read-only
 * disk) is a line naming the variable, with the system's own words for what failed where.
 */
function dataDirStep<T>(step: () => T): T {
  try {
    return step();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (err instanceof ConfigError || !code) throw err;
    throw dataDirError(err);
  }
}

const dataDirError = (err: unknown) => new ConfigError([`DATA_DIR: cannot create or write the data directory (${(err as Error).message})`]);

/**
 * A start-up step after the configuration (the embedded database's lock, its files) that failed
 * on a file in DATA_DIR (a read-only disk, a folder owned by another user): the same one line
 * naming the variable as a DATA_DIR that cannot be made, instead of the bare system error.
 * Undefined for any other error.
 */
export function dataDirFailure(err: unknown, dataDir: string): ConfigError | undefined {
  const e = err as Partial<NodeJS.ErrnoException> | null;
  if (!e || typeof e.code !== 'string' || typeof e.path !== 'string' || typeof e.syscall !== 'string') return undefined;
  const rel = path.relative(dataDir, path.resolve(e.path));
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return dataDirError(err);
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
