import { describe, expect, it } from 'vitest';
import { openRecord, recordAad, sealRecord } from '../../crypto/envelope.js';
import { blindToken } from '../../crypto/blind-index.js';
import { deriveRowKey, randomKey } from '../../crypto/keys.js';
import { KeyRing } from '../services/keyring.js';
import * as codec from './index.js';

const keys = new KeyRing(randomKey());
const userId = '6f1c1a52-8a6e-4c0e-9d51-5a3f0c7b2e10';
const id = '0b7c3e2a-1f4d-4b6a-8c9e-2d5f7a1b3c4e';
const row = { userId, id, version: 3 };
const old = (purpose: Parameters<KeyRing['subkey']>[0], keyId: string, table: string, version = 3) => ({
  key: deriveRowKey(keys.subkey(purpose), keyId),
  aad: recordAad({ userId, table, rowId: id, version }),
});

describe('codecs', () => {
  // Rows written before the codecs existed must still open: each codec keeps the subkey, row-key
  // id and AAD label its call site used.
  it.each([
    ['item', codec.item, old('items', id, 'vault_items'), { title: 't', text: 'x', tags: [] }],
    ['tag', codec.tag, old('tags', id, 'tags'), 'Diabetes'],
    ['file metadata', codec.fileMeta, old('files', `${id}:meta`, 'files'), { name: 'a.pdf', contentType: 'application/pdf' }],
    ['chat', codec.chat, old('chats', `chats:${id}`, 'chats'), { title: 'Sleep' }],
    ['chat message', codec.chatMessage, old('chats', `chat_messages:${id}`, 'chat_messages'), { text: 'hi' }],
    ['API token name', codec.apiTokenName, old('tokens', id, 'api_tokens'), 'backup script'],
  ] as const)('opens a %s sealed the way it was before', (_name, c, o, value) => {
    const plain = Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
    expect((c as codec.Codec<unknown>).open(keys, row, sealRecord(o.key, plain, o.aad))).toEqual(value);
    // and what it seals opens the old way
    expect(openRecord(o.key, (c as codec.Codec<unknown>).seal(keys, row, value), o.aad)).toEqual(plain);
  });

  it('keeps the inbox private key, import files and file contents where they were', () => {
    const priv = randomKey();
    const ref = { userId, id: userId, version: 1 };
    expect(
      codec.inboxPrivateKey.open(
        keys,
        ref,
        sealRecord(deriveRowKey(keys.subkey('inbox'), userId), priv, recordAad({ userId, table: 'users.inbox_private_key', rowId: userId, version: 1 })),
      ),
    ).toEqual(priv);
    expect(codec.importFile.stream(keys, userId, id)).toEqual({
      key: deriveRowKey(keys.subkey('files'), `import/${id}`),
      aad: recordAad({ userId, table: 'jobs', rowId: id, version: 1 }),
    });
    expect(codec.fileContent.stream(keys, userId, id)).toEqual({
      key: deriveRowKey(keys.subkey('files'), id),
      aad: recordAad({ userId, table: 'files', rowId: id, version: 1 }),
    });
    expect(codec.inboxBatch.info(userId, id, 'epic', 'records')).toBe(`v1|inbox|${userId}|${id}|epic|records`);
  });

  it('binds every ciphertext to its user, row and version', () => {
    const blob = codec.jobOutcome.seal(keys, row, { imported: { 'snomed:44054006': 1 }, error: 'entry x.json' });
    expect(codec.jobOutcome.open(keys, row, blob)).toEqual({ imported: { 'snomed:44054006': 1 }, error: 'entry x.json' });
    for (const other of [
      { ...row, version: 2 },
      { ...row, id: userId },
      { ...row, userId: id },
    ])
      expect(() => codec.jobOutcome.open(keys, other, blob)).toThrow();
    expect(() => codec.item.open(keys, row, blob)).toThrow(); // another codec's label
    expect(() => codec.jobOutcome.open(new KeyRing(randomKey()), row, blob)).toThrow();
  });

  it('blinds type codes per user and per table, never as the plain blind-index token', () => {
    const a = codec.item.blindType(keys, '4548-4');
    expect(a).toHaveLength(16);
    expect(codec.item.blindType(keys, '4548-4')).toEqual(a);
    expect(codec.item.blindType(new KeyRing(randomKey()), '4548-4')).not.toEqual(a);
    expect(codec.seriesChunk.blindType(keys, '4548-4')).not.toEqual(a);
    expect(codec.seriesType.blind(keys, '4548-4')).toEqual(codec.seriesChunk.blindType(keys, '4548-4'));
    expect(a).not.toEqual(blindToken(keys.subkey('index'), '4548-4'));
    expect(codec.item.blindType(keys, null)).toEqual(codec.item.blindType(keys, ''));
  });

  it('binds a yearly roll-up to its user, type and year, and preferences to their row and version', () => {
    const months = { '2025-03-01': { unit: 'kg', days: 2, count: 2, min: 70, max: 71, mean: 70.5, sum: 141 } };
    const blob = codec.seriesYear.seal(keys, userId, '29463-7', 2025, months);
    expect(codec.seriesYear.open(keys, userId, '29463-7', 2025, blob)).toEqual(months);
    expect(() => codec.seriesYear.open(keys, userId, '29463-7', 2024, blob)).toThrow();
    expect(() => codec.seriesYear.open(keys, userId, '8867-4', 2025, blob)).toThrow();
    expect(() => codec.seriesYear.open(keys, id, '29463-7', 2025, blob)).toThrow();
    expect(() => codec.seriesYear.open(new KeyRing(randomKey()), userId, '29463-7', 2025, blob)).toThrow();
    const prefs = { units: { weight: 'lb' } };
    const ref = { userId, id: 'preferences', version: 2 };
    const sealed = codec.preferences.seal(keys, ref, prefs);
    expect(codec.preferences.open(keys, ref, sealed)).toEqual(prefs);
    expect(() => codec.preferences.open(keys, { ...ref, version: 1 }, sealed)).toThrow();
    expect(() => codec.item.open(keys, ref, sealed)).toThrow(); // another codec's label
  });
});
