import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

/**
 * A real S3 protocol server for tests: s3rver (npm), run as its own process on loopback with its
 * objects in a temporary directory. Tests reach it only over HTTP with the AWS SDK, the same way
 * the app reaches a real bucket (path-style, signed requests).
 */
export interface TestS3 {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Where s3rver keeps the objects (to scan what the bucket holds byte for byte). */
  directory: string;
  /** The app's settings for this bucket. */
  env: Record<string, string>;
  client(): S3Client;
  /** Makes another bucket on the same server. */
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

// s3rver accepts exactly this key pair (its defaults) and checks request signatures with it.
const ACCESS_KEY_ID = 'S3RVER';
const SECRET_ACCESS_KEY = 'S3RVER';

const SERVER_SCRIPT = `
const S3rver = require('s3rver');
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: process.argv[1], vhostBuckets: false });
server.run().then((addr) => { process.stdout.write('PORT ' + addr.port + '\\n'); }, (e) => { console.error(e); process.exit(1); });
process.on('SIGTERM', () => server.close().finally(() => process.exit(0)));
`;

export async function startS3Server(bucket = 'cv-test'): Promise<TestS3> {
  const directory = await mkdtemp(path.join(tmpdir(), 'cv-s3-'));
  const child: ChildProcess = spawn(process.execPath, ['-e', SERVER_SCRIPT, directory], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..'),
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (l) => {
      const m = /^PORT (\d+)$/.exec(l);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited (${code}): ${stderr}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const region = 'us-east-1';
  const client = () =>
    new S3Client({ endpoint, region, forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY } });
  const createBucket = async (name: string) => {
    const c = client();
    try {
      await c.send(new CreateBucketCommand({ Bucket: name }));
    } finally {
      c.destroy();
    }
  };
  await createBucket(bucket);
  return {
    endpoint,
    bucket,
    region,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    directory,
    env: {
      STORAGE: 's3',
      S3_ENDPOINT: endpoint,
      S3_BUCKET: bucket,
      S3_REGION: region,
      S3_ACCESS_KEY_ID: ACCESS_KEY_ID,
      S3_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
      S3_FORCE_PATH_STYLE: 'true',
    },
    client,
    createBucket,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}
