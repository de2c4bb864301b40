import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';
import { areaSpec } from './index.js';

describe('STORAGE and S3_* settings', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cv-storage-config-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('keeps files on the local disk by default, in the same folders as before', () => {
    const c = loadConfig({ DATA_DIR: dir });
    expect(c.storage).toEqual({ kind: 'local', root: dir });
    expect(areaSpec(c.storage, 'files')).toEqual({ kind: 'local', root: path.join(dir, 'files') });
  });

  it('reads the S3 settings into one spec, each area under its own prefix', () => {
    const c = loadConfig({
      DATA_DIR: dir,
      STORAGE: 's3',
      S3_BUCKET: 'vault-files',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: 'id',
      S3_SECRET_ACCESS_KEY: 'secret',
    });
    expect(c.storage).toEqual({
      kind: 's3',
      bucket: 'vault-files',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      accessKeyId: 'id',
      secretAccessKey: 'secret',
      prefix: '',
    });
    expect(areaSpec(c.storage, 'imports')).toMatchObject({ kind: 's3', prefix: 'imports/' });
  });

  it('names what is wrong without echoing secrets', () => {
    expect(() => loadConfig({ DATA_DIR: dir, STORAGE: 's3' })).toThrow(/S3_BUCKET: required when STORAGE=s3/);
    expect(() => loadConfig({ DATA_DIR: dir, STORAGE: 'ftp' })).toThrow(ConfigError);
    expect(() => loadConfig({ DATA_DIR: dir, STORAGE: 's3', S3_BUCKET: 'Bad_Bucket' })).toThrow(/S3_BUCKET/);
    expect(() => loadConfig({ DATA_DIR: dir, BACKUP_AGE_RECIPIENT: 'AGE-SECRET-KEY-1XYZ' })).toThrow(/BACKUP_AGE_RECIPIENT/);
    try {
      loadConfig({ DATA_DIR: dir, BACKUP_AGE_RECIPIENT: 'AGE-SECRET-KEY-1XYZ' });
    } catch (e) {
      expect((e as Error).message).not.toContain('AGE-SECRET-KEY-1XYZ');
    }
  });
});
