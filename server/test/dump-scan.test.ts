import { describe, expect, it } from 'vitest';
import { found } from '../../test-support/server/dump-scan.js';

describe('found (the privacy tests’ dump scan)', () => {
  it('finds a code stored in clear, next to an id or anywhere else, but not inside an id', () => {
    const id = '6f0c2718-7a4b-4c5d-8e7f-80910a1b2c3d'; // holds "718-7" by chance
    const copy = (s: string) => Buffer.from(s, 'latin1');
    expect(found(copy(`${id}\t\\N\t2026-12-06\n`), ['718-7', '8480-6'])).toEqual([]);
    expect(found(copy(`${id}\t718-7\n`), ['718-7', '8480-6'])).toEqual(['718-7']);
    expect(found(copy(`${id}718-7`), ['718-7'])).toEqual(['718-7']);
    expect(found(Buffer.concat([Buffer.from([0xff, 0x00]), Buffer.from('Hämoglobin 718-7', 'utf8')]), ['Hämoglobin', '718-7'])).toEqual([
      'Hämoglobin',
      '718-7',
    ]);
  });
});
