import type { FastifySerializerCompiler } from 'fastify/types/schema.js';
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import { Extraction, Item, ItemKind, ItemSource, SearchMode, SearchResponse } from '../../contract/index.js';

const KINDS: ReadonlySet<unknown> = new Set(ItemKind.options);
const SOURCES: ReadonlySet<unknown> = new Set(ItemSource.options);
const STATUSES: ReadonlySet<unknown> = new Set(Extraction.shape.status.options);
const MODES: ReadonlySet<unknown> = new Set(SearchMode.options);

const str = JSON.stringify;
const isStr = (v: unknown): v is string => typeof v === 'string';
const strOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The `Item` schema's JSON for `x`, written field by field in the schema's order, or `undefined`
 * when `x` is not an Item (the caller then lets zod answer, and refuse it, as for any schema).
 * Only the schema's fields are written, as zod's output would have them: the item routes are the
 * vault's hottest, and zod's encode-then-stringify cost them more than their decryption.
 */
export function itemJson(x: unknown): string | undefined {
  if (!isRecord(x)) return undefined;
  const { id, kind, source, type, title, text, textTruncated, tags, occurredAt, createdAt, updatedAt, version, folderId, fileId, data, extraction } = x;
  if (!isStr(id) || !KINDS.has(kind) || !SOURCES.has(source) || !strOrNull(type) || !isStr(title) || !isStr(text)) return undefined;
  if (textTruncated !== undefined && typeof textTruncated !== 'boolean') return undefined;
  if (!Array.isArray(tags) || !tags.every(isStr) || !strOrNull(occurredAt) || !isStr(createdAt) || !isStr(updatedAt)) return undefined;
  if (typeof version !== 'number' || !Number.isInteger(version) || !strOrNull(folderId)) return undefined;
  let json =
    `{"id":${str(id)},"kind":${str(kind)},"source":${str(source)},"type":${str(type)},"title":${str(title)},"text":${str(text)},` +
    (textTruncated === undefined ? '' : `"textTruncated":${str(textTruncated)},`) +
    `"tags":${str(tags)},"occurredAt":${str(occurredAt)},"createdAt":${str(createdAt)},"updatedAt":${str(updatedAt)},` +
    `"version":${str(version)},"folderId":${str(folderId)}`;
  if (fileId !== undefined) {
    if (!isStr(fileId)) return undefined;
    json += `,"fileId":${str(fileId)}`;
  }
  if (data !== undefined) {
    if (!isRecord(data)) return undefined;
    json += `,"data":${str(data)}`;
  }
  if (extraction !== undefined) {
    if (!isRecord(extraction) || !STATUSES.has(extraction.status)) return undefined;
    const { status, reason } = extraction;
    if (reason !== undefined && !isStr(reason)) return undefined;
    json += `,"extraction":{"status":${str(status)}${reason === undefined ? '' : `,"reason":${str(reason)}`}}`;
  }
  return json + '}';
}

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * The `SearchResponse` schema's JSON for `x` (a page of twenty items, each with its score and
 * snippet), or `undefined` when it is not one, as {@link itemJson} does for one item.
 */
export function searchResponseJson(x: unknown): string | undefined {
  if (!isRecord(x) || !Array.isArray(x.results) || !MODES.has(x.mode)) return undefined;
  const parts: string[] = [];
  for (const r of x.results as unknown[]) {
    if (!isRecord(r) || !isFiniteNumber(r.score) || !isStr(r.snippet)) return undefined;
    const item = itemJson(r.item);
    if (item === undefined) return undefined;
    let json = `{"item":${item},"score":${str(r.score)},"snippet":${str(r.snippet)}`;
    if (r.page !== undefined) {
      if (!isFiniteNumber(r.page)) return undefined;
      json += `,"page":${str(r.page)}`;
    }
    parts.push(json + '}');
  }
  return `{"results":[${parts.join(',')}],"mode":${str(x.mode)}}`;
}

/**
 * zod's response serializer (validate, then stringify), with the `Item` and `SearchResponse`
 * schemas written by {@link itemJson} and {@link searchResponseJson}; anything they do not take
 * goes to zod, which answers as before.
 */
export const responseSerializerCompiler: FastifySerializerCompiler<unknown> = (route) => {
  const zod = zodSerializerCompiler(route as Parameters<typeof zodSerializerCompiler>[0]);
  if (route.schema === Item) return (data) => itemJson(data) ?? zod(data);
  if (route.schema === SearchResponse) return (data) => searchResponseJson(data) ?? zod(data);
  return zod;
};
