import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DecryptError } from '../../crypto/index.js';
import { AppError, fromPostgresError } from '../errors.js';
import { isStorageFull, isStorageUnavailable } from '../storage/object-store.js';

/** Seconds a client is told to wait before trying again while the object store does not answer. */
const STORAGE_RETRY_AFTER_S = 30;

/** Fastify and plugin error codes that mean "your request was wrong", mapped to ours. */
const FRAMEWORK: Record<string, [number, string, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'too_large', 'The request body is too large.'],
  FST_REQ_FILE_TOO_LARGE: [413, 'too_large', 'The file is larger than this server accepts.'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type', 'This content type is not accepted here.'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [415, 'unsupported_media_type', 'Send the file as multipart/form-data.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_json', 'The request body is empty.'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_json', 'The request body is not valid JSON.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'bad_request', 'Content-Length does not match the body.'],
  FST_FILES_LIMIT: [400, 'too_many_files', 'Send one file at a time.'],
  FST_FIELDS_LIMIT: [400, 'too_many_fields', 'Too many form fields.'],
  FST_PARTS_LIMIT: [400, 'too_many_parts', 'Too many form parts.'],
  FST_PROTO_VIOLATION: [400, 'invalid_json', 'The request body is not allowed.'],
  // The router's own (Fastify's `frameworkErrors`): its default body has another shape and echoes the path.
  FST_ERR_BAD_URL: [400, 'bad_url', 'The address is not valid: it has a broken percent-encoding.'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'url_too_long', 'A part of the address is too long.'],
};

/** A framework or plugin error as the AppError the client gets, if it is one we map (multipart reads use it). */
export function frameworkError(err: unknown): AppError | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  const mapped = typeof code === 'string' && Object.hasOwn(FRAMEWORK, code) ? FRAMEWORK[code] : undefined;
  return mapped && new AppError(...mapped);
}

/**
 * PostgreSQL's answers to a character it cannot store (U+0000 in `text`, `\u0000` in `jsonb`).
 * The validator refuses U+0000 at the edge; this is the backstop for input that reaches SQL by
 * another way (a route part without a schema), so it is still a 400, not a 500.
 */
const PG_BAD_CHARACTER = new Set(['22021', '22P05']);

/**
 * Fastify's `frameworkErrors` option: what the router refuses before any route or hook runs (a
 * broken percent-encoding, a path part over `maxParamLength`), in the error body every other
 * answer has.
 */
export function routerErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const e = frameworkError(err) ?? new AppError(500, 'internal', 'Something went wrong on the server.');
  void reply.code(e.statusCode).send({ error: { code: e.code, message: e.message } });
}

/**
 * Errors Node's HTTP parser meets before there is a request (headers too large, a malformed
 * request line, a client too slow to send its headers), answered in the API's error shape.
 * Fastify's default answers them with a body of its own shape.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Duplex): void {
  // A reset connection has nobody to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'The request headers are too large.']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'The request took too long to arrive.']
        : [400, 'bad_request', 'The request could not be read.'];
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const send = (status: number, code: string, message: string, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) =>
      reply
        .code(status)
        .headers(headers)
        .type('application/json')
        .send({ ...extra, error: { code, message } });

    // An answer before the body was read in full (an upload that failed midway): the rest of it
    // is not read, so the connection cannot carry another request. Closed, the client sees the
    // answer; kept open, its next request would wait behind a body nobody reads.
    if (req.raw.complete === false) reply.header('connection', 'close');
    if (err instanceof AppError) return send(err.statusCode, err.code, err.message, err.headers, err.extra);
    if (hasZodFastifySchemaValidationErrors(err)) {
      const first = err.validation[0];
      const where = first?.instancePath ? first.instancePath.replace(/^\//, '').replace(/\//g, '.') : err.validationContext;
      return send(400, 'invalid_request', `${where ? `${where}: ` : ''}${first?.message ?? 'Invalid request.'}`);
    }
    const mapped = err.code ? FRAMEWORK[err.code] : undefined;
    if (mapped) return send(...mapped);
    if (err instanceof SyntaxError && err.statusCode === 400) return send(400, 'invalid_json', 'The request body is not valid JSON.');
    if (err.statusCode === 429) {
      return send(429, 'rate_limited', 'Too many requests. Try again later.', { 'retry-after': String(reply.getHeader('retry-after') ?? 60) });
    }
    if (PG_BAD_CHARACTER.has(String(err.code))) {
      req.log.warn({ err: { code: err.code } }, 'input with a character the database cannot store');
      return send(400, 'invalid_request', 'The request contains a character that cannot be stored (U+0000).');
    }
    if (isStorageUnavailable(err)) {
      // Every route that stores or reads a blob (files, imports, exports, restores) meets the
      // same outage: the operator needs the cause (the error names S3_ENDPOINT, never a key or
      // URL), the client a retryable 503.
      req.log.error({ err: { message: err.message, code: err.code } }, 'object storage unavailable');
      return send(503, 'storage_unavailable', 'File storage is not answering right now. Try again in a moment.', {
        'retry-after': String(STORAGE_RETRY_AFTER_S),
      });
    }
    if (isStorageFull(err)) {
      // The disk under DATA_DIR (or the export spool) is full: the operator must free space.
      req.log.error({ err: { message: err.message, code: err.code } }, 'storage full: a write was refused');
      return send(507, 'storage_full', "The server's storage is full, so this was not saved. Ask the server's administrator to free some space.");
    }
    const pg = fromPostgresError(err);
    if (pg) return send(pg.statusCode, pg.code, pg.message);
    if (err instanceof DecryptError) {
      req.log.error({ err: { name: err.name } }, 'integrity check failed');
      return send(500, 'integrity_error', 'Stored data failed its integrity check and was not returned.');
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return send(err.statusCode, 'bad_request', 'The request could not be processed.');
    }
    req.log.error({ err }, 'unhandled error');
    return send(500, 'internal', 'Something went wrong on the server. The request id is in the x-request-id header.');
  });
}
