import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import { Item, SearchResponse } from '../../contract/index.js';
import { itemJson, responseSerializerCompiler, searchResponseJson } from './response-serializer.js';

const route = { schema: Item, method: 'GET', url: '/api/items/:id', httpStatus: '200' };
const zod = zodSerializerCompiler(route as Parameters<typeof zodSerializerCompiler>[0]);
const sut = responseSerializerCompiler(route);

const note = {
  id: '0b5e4bde-5d0a-4a3e-9d43-3f7c7b1f5a10',
  kind: 'note',
  source: 'manual',
  type: null,
  title: 'Blood "test" results \u2028 é',
  text: 'Hemoglobin 13.2 g/dL\n\t\\ follow up </script>',
  tags: ['labs', 'Ünïcode'],
  occurredAt: null,
  createdAt: '2026-12-05T19:00:00.000Z',
  updatedAt: '2026-12-05T19:00:01.000Z',
  version: 3,
  folderId: null,
};
const document = {
  ...note,
  kind: 'document',
  source: 'upload',
  type: 'Observation',
  occurredAt: '2026-01-02T03:04:05.000Z',
  folderId: '5d1c3e39-9a6b-45a4-8a0b-2b1f1f9f0c11',
  fileId: 'c2d7c3a8-1f0e-4e7c-8f57-0f1e0a7b9d12',
  data: { 2: 'two', value: 13.2, nested: { unit: 'g/dL', list: [1, null, 'x'] }, a: 'first' },
  extraction: { status: 'failed', reason: 'The PDF is password-protected.' },
};

describe('the Item response serializer', () => {
  it('writes what zod writes, byte for byte', () => {
    for (const item of [note, document, { ...document, extraction: { status: 'ok' } }, { ...note, tags: [] }, { ...document, textTruncated: true }]) {
      expect(sut(item)).toBe(zod(item));
    }
  });

  it('writes only the schema fields, whatever else the object holds', () => {
    const withExtra = { ...note, ciphertext: 'secret', user_id: 'u1', extraction: undefined, fileId: undefined };
    expect(sut(withExtra)).toBe(zod(withExtra));
    expect(JSON.parse(sut(withExtra))).not.toHaveProperty('ciphertext');
  });

  it('lets zod refuse what is not an Item', () => {
    for (const bad of [
      { ...note, version: 1.5 },
      { ...note, kind: 'secret' },
      { ...note, tags: [1] },
      { ...note, title: undefined },
      { ...note, textTruncated: 'yes' },
      null,
    ]) {
      expect(itemJson(bad)).toBeUndefined();
      expect(() => sut(bad)).toThrow("Response doesn't match the schema");
    }
  });
});

describe('the SearchResponse serializer', () => {
  const searchRoute = { schema: SearchResponse, method: 'GET', url: '/api/search', httpStatus: '200' };
  const zodSearch = zodSerializerCompiler(searchRoute as Parameters<typeof zodSerializerCompiler>[0]);
  const sutSearch = responseSerializerCompiler(searchRoute);
  const page = {
    results: [
      { item: note, score: 3.25, snippet: 'Hemoglobin **13.2** g/dL "quoted" \u2028', extra: 'dropped' },
      { item: { ...document, ciphertext: 'secret' }, score: 1 / 61, snippet: '', page: 4 },
      { item: { ...note, tags: [] }, score: -0, snippet: '…**follow** up' },
      { item: { ...note, text: 'Hemo', textTruncated: true }, score: 0.5, snippet: '**Hemo**' },
    ],
    mode: 'hybrid',
  };

  it('writes what zod writes, byte for byte, and only the schema fields', () => {
    for (const x of [page, { results: [], mode: 'keyword' }, { ...page, results: page.results.slice(1), extra: 1 }]) {
      expect(sutSearch(x)).toBe(zodSearch(x));
    }
    expect(sutSearch(page)).not.toContain('secret');
  });

  it('lets zod refuse what is not a SearchResponse', () => {
    const one = page.results[0]!;
    for (const bad of [
      { ...page, mode: 'semantic' },
      { results: [{ ...one, score: Number.NaN }], mode: 'keyword' },
      { results: [{ ...one, snippet: undefined }], mode: 'keyword' },
      { results: [{ ...one, page: '4' }], mode: 'keyword' },
      { results: [{ ...one, item: { ...note, version: 1.5 } }], mode: 'keyword' },
      { results: {}, mode: 'keyword' },
      null,
    ]) {
      expect(searchResponseJson(bad)).toBeUndefined();
      expect(() => sutSearch(bad)).toThrow("Response doesn't match the schema");
    }
  });
});
