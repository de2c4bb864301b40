import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** The server logs JSON lines: nothing the S3 client loads may print plain text at start. */
describe('S3 object store start-up', () => {
  it('prints nothing on stderr on this Node (the SDK’s Node-version notice stays out of the log)', async () => {
    const script = `
      const { S3ObjectStore } = await import('./server/storage/s3-store.ts');
      new S3ObjectStore({ kind: 's3', bucket: 'b', region: 'us-east-1', endpoint: 'http://127.0.0.1:9', forcePathStyle: true, accessKeyId: 'a', secretAccessKey: 'b' });
      await new Promise((r) => setTimeout(r, 100));
    `;
    const env = { ...process.env };
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    const { stderr } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env });
    expect(stderr).toBe('');
  });
});
