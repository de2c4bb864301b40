import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRetention, backupName, listBackups, openTarget, TargetError } from './target.js';

describe('backup targets', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cv-backup-target-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('names backups by UTC time so that they sort oldest first', () => {
    expect(backupName(new Date('2026-01-05T03:15:00.123Z'))).toBe('context-vault-20260105T031500Z.tar.age');
  });

  it('keeps the newest N backups and never touches other files', async () => {
    const t = await openTarget(dir, { region: 'us-east-1', forcePathStyle: false });
    const names = [1, 2, 3, 4].map((d) => backupName(new Date(Date.UTC(2026, 0, d))));
    for (const n of [...names].reverse()) await writeFile(path.join(dir, n), 'x');
    await writeFile(path.join(dir, 'notes.txt'), 'mine');
    expect(await listBackups(t)).toEqual(names);
    expect(await applyRetention(t, 2)).toEqual(names.slice(0, 2));
    expect(await listBackups(t)).toEqual(names.slice(2));
    expect(await t.size('notes.txt')).toBe(4);
  });

  it('refuses an s3 prefix that is not plain names', async () => {
    await expect(openTarget('s3://bucket-a/../x', { region: 'us-east-1', forcePathStyle: true })).rejects.toThrow(/BACKUP_TARGET/);
  });

  it('refuses an s3:// target whose bucket name is not valid, instead of treating it as a directory', async () => {
    for (const bad of ['s3://CV_Backups/x', 's3://ab', 's3://Upper/x'])
      await expect(openTarget(bad, { region: 'us-east-1', forcePathStyle: true })).rejects.toThrow(
        new TargetError('BACKUP_TARGET: not a valid S3 bucket name (3 to 63 lower-case letters, digits, "." and "-")', 2),
      );
  });
});
