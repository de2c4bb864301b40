import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

/** What a start-up with this DATA_DIR prints (the ConfigError's message), or null when it starts. */
function startError(dataDir: string): string | null {
  try {
    loadConfig({ DATA_DIR: dataDir, SANDBOX_RUNTIME: 'none' });
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
}

describe('a DATA_DIR the server cannot use', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cv-test-datadir-'));
    await writeFile(path.join(dir, 'a-file'), 'x');
    // server.key is a folder: the key can be neither read nor written.
    await mkdir(path.join(dir, 'keyless', 'server.key'), { recursive: true });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a file where the folder should be: one line naming DATA_DIR, with the system’s reason', () => {
    const file = path.join(dir, 'a-file');
    expect(startError(file)).toBe(
      `Invalid configuration:\n  DATA_DIR: cannot create or write the data directory (EEXIST: file already exists, mkdir '${file}')`,
    );
  });

  it('a folder below a file', () => {
    const below = path.join(dir, 'a-file', 'x');
    expect(startError(below)).toMatch(
      /^Invalid configuration:\n {2}DATA_DIR: cannot create or write the data directory \(ENOTDIR: not a directory, mkdir '.*'\)$/,
    );
  });

  it('server.key cannot be read or written there', () => {
    expect(startError(path.join(dir, 'keyless'))).toMatch(/^Invalid configuration:\n {2}DATA_DIR: cannot create or write the data directory \(EISDIR: /);
  });

  it('a usable one starts', () => {
    expect(startError(path.join(dir, 'fine'))).toBeNull();
  });
});
