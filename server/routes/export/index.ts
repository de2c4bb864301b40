import { Transform } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { isAgeIdentity, isAgeRecipient, type AgeKey } from '../../../crypto/index.js';
import type { Config } from '../../config.js';
import { badRequest, rateLimited, unsupportedType } from '../../errors.js';
import type { ExportService } from '../../export/export.service.js';
import type { ExportImportJobs } from '../../export/import-job.js';
import { clearSessionCookie, requireSession } from '../../http/session.js';
import type { Metrics } from '../../metrics/registry.js';
import type { AccountService } from '../../services/account.service.js';
import { DeleteAccountBody, exportBodySchema, JobAccepted } from '../../../contract/index.js';

const ExportBody = exportBodySchema(isAgeRecipient);

interface Deps {
  exporter: ExportService;
  importJobs: ExportImportJobs;
  account: AccountService;
  metrics: Metrics;
  config: Config;
}

/** Exports in progress on this instance: each holds a core busy with ChaCha20 and AES. */
const MAX_CONCURRENT_EXPORTS = 4;

export const exportRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    const { exporter, importJobs, account, metrics, config } = deps;
    // Per signed-in user where there is one (the session hook runs first), else per address.
    const perUser = (max: number, timeWindow: number) => ({
      rateLimit: { max, timeWindow, keyGenerator: (req: { session: { userId: string } | null; ip: string }) => req.session?.userId ?? req.ip },
    });
    let active = 0;

    app.post(
      '/api/export',
      {
        config: perUser(config.RATE_LIMIT_EXPORT_PER_HOUR, 3_600_000),
        schema: { body: ExportBody, produces: ['application/octet-stream'], description: 'The whole vault as an age-encrypted tar.' },
      },
      async (req, reply) => {
        const session = requireSession(req);
        if (active >= MAX_CONCURRENT_EXPORTS) throw rateLimited(30, 'The server is busy with other exports. Try again shortly.');
        active++;
        const started = Date.now();
        let bytes = 0;
        let released = false;
        const release = (status: 'done' | 'failed') => {
          if (released) return;
          released = true;
          active--;
          metrics.exports.inc({ status });
          metrics.exportBytes.inc({ recipient: req.body.recipient ? 'x25519' : 'scrypt' }, bytes);
          metrics.exportSeconds.observe((Date.now() - started) / 1000);
        };
        let out;
        try {
          out = await exporter.export(
            session,
            req.body.recipient ? { recipient: req.body.recipient } : { passphrase: req.body.passphrase! },
            {
              requestId: req.id,
              onError: (err) => req.log.error({ err: { name: err.name, code: (err as { code?: string }).code } }, 'export failed mid-stream'),
            },
            { includeTrash: req.body.includeTrash },
          );
        } catch (err) {
          release('failed');
          throw err;
        }
        // A pass-through meter, not a 'data' listener: that would start the flow before the
        // reply pipes it, and the first bytes (the age header) would go to the listener only.
        const metered = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            bytes += chunk.length;
            cb(null, chunk);
          },
        });
        out.once('error', (err) => metered.destroy(err));
        metered.once('close', () => {
          out.destroy();
          release(metered.writableFinished && metered.readableEnded ? 'done' : 'failed');
        });
        out.pipe(metered);
        const date = new Date().toISOString().slice(0, 10);
        return reply
          .header('content-type', 'application/octet-stream')
          .header('content-disposition', `attachment; filename="context-vault-export-${date}.age"`)
          .header('cache-control', 'private, no-store')
          .send(metered);
      },
    );

    app.post(
      '/api/import/export',
      {
        config: perUser(config.RATE_LIMIT_EXPORT_PER_HOUR, 3_600_000),
        schema: {
          consumes: ['multipart/form-data'],
          description: 'Restores an export: multipart fields `passphrase` or `identity` (before the file), then `file`.',
          response: { 202: JobAccepted },
        },
      },
      async (req, reply) => {
        const session = requireSession(req);
        if (!req.isMultipart()) throw unsupportedType('Send the export as multipart/form-data: a "passphrase" or "identity" field, then "file".');
        let key: AgeKey | undefined;
        for await (const part of req.parts({ limits: { fileSize: config.MAX_IMPORT_MB * 1024 * 1024, files: 1 } })) {
          if (part.type === 'field') {
            const value = typeof part.value === 'string' ? part.value : '';
            if (part.fieldname === 'passphrase' && value) key = { passphrase: value };
            if (part.fieldname === 'identity' && value) {
              const line = value
                .split(/\r?\n/)
                .map((l) => l.trim())
                .find((l) => l.startsWith('AGE-SECRET-KEY-1'));
              if (!line || !isAgeIdentity(line)) throw badRequest('identity must be an age X25519 identity (AGE-SECRET-KEY-1...).', 'invalid_identity');
              key = { identity: line };
            }
            continue;
          }
          if (part.fieldname !== 'file') {
            part.file.resume();
            continue;
          }
          if (!key) {
            part.file.resume();
            throw badRequest('Send a "passphrase" or "identity" field before the file.', 'missing_key');
          }
          const r = await importJobs.start(session, part.file, key, req.id);
          return reply.code(202).send(r);
        }
        throw badRequest('No file was sent. Use a multipart field named "file".', 'missing_file');
      },
    );

    app.delete(
      '/api/account',
      { config: { rateLimit: { max: config.RATE_LIMIT_AUTH_PER_MIN, timeWindow: 60_000 } }, schema: { body: DeleteAccountBody } },
      async (req, reply) => {
        await account.delete(requireSession(req), req.body.passphrase, req.id);
        clearSessionCookie(reply, config);
        return reply.code(204).send();
      },
    );
  };
