import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loggerOptions } from '../logger.js';
import { lazyChild } from './lazy-logger.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) };
  return { log: pino({ ...loggerOptions('info') }, stream), lines };
}

describe('lazyChild', () => {
  it("logs with the parent's and its own bindings, through the same redaction", () => {
    const { log, lines } = capture();
    const sut = lazyChild(log.child({ reqId: 'r1' }), { userId: 'u1' });
    sut.info({ auth: { token: 'secret-token' }, n: 1 }, 'hello');
    sut.child({ extra: true }).warn('nested');
    expect(lines).toMatchObject([
      { reqId: 'r1', userId: 'u1', auth: { token: '[redacted]' }, n: 1, msg: 'hello' },
      { reqId: 'r1', userId: 'u1', extra: true, msg: 'nested' },
    ]);
  });

  it('makes the child once, on first use, and never before', () => {
    const { log } = capture();
    let made = 0;
    const parent = Object.assign(Object.create(log) as typeof log, {
      child: (b: Record<string, unknown>) => {
        made++;
        return log.child(b);
      },
    });
    const sut = lazyChild(parent, { userId: 'u1' });
    expect(made).toBe(0);
    sut.info('one');
    sut.error('two');
    expect(sut.level).toBe('info');
    expect(made).toBe(1);
  });

  it('sets the level on the child, not on the parent', () => {
    const { log } = capture();
    const sut = lazyChild(log, { userId: 'u1' });
    sut.level = 'error';
    expect(sut.level).toBe('error');
    expect(log.level).toBe('info');
  });
});
