import type { FastifySerializerCompiler } from 'fastify/types/schema.js';
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import { Extraction, Item, ItemKind, ItemSource } from '../../contract/index.js';

const KINDS: ReadonlySet<unknown> = new Set(ItemKind.options);
const SOURCES: ReadonlySet<unknown> = new Set(ItemSource.options);
const STATUSES: ReadonlySet<unknown> = new Set(Extraction.shape.status.options);

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
  const { id, kind, source, type, title, text, tags, occurredAt, createdAt, updatedAt, version, folderId, fileId, data, extraction } = x;
  if (!isStr(id) || !KINDS.has(kind) || !SOURCES.has(source) || !strOrNull(type) || !isStr(title) || !isStr(text)) return undefined;
  if (!Array.isArray(tags) || !tags.every(isStr) || !strOrNull(occurredAt) || !isStr(createdAt) || !isStr(updatedAt)) return undefined;
  if (typeof version !== 'number' || !Number.isInteger(version) || !strOrNull(folderId)) return undefined;
  let json =
    `{"id":${str(id)},"kind":${str(kind)},"source":${str(source)},"type":${str(type)},"title":${str(title)},"text":${str(text)},` +
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

/**
 * zod's response serializer (validate, then stringify), with the `Item` schema written by
 * {@link itemJson}; anything itemJson does not take goes to zod, which answers as before.
 */
export const responseSerializerCompiler: FastifySerializerCompiler<unknown> = (route) => {
  const zod = zodSerializerCompiler(route as Parameters<typeof zodSerializerCompiler>[0]);
  if (route.schema !== Item) return zod;
  return (data) => itemJson(data) ?? zod(data);
};
