import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { isAgeRecipient, type AgeKey } from '../../../crypto/index.js';
import type { Config } from '../../config.js';
import { unsupportedType } from '../../errors.js';
import type { ExportService } from '../../export/export.service.js';
import { ageKeyFromField, type ExportImportJobs } from '../../export/import-job.js';
import { receiveFile } from '../../http/multipart.js';
import { perUser } from '../../http/rate-limit.js';
import { clearSessionCookie, requireSession } from '../../http/session.js';
import type { AccountService } from '../../services/account.service.js';
import { DeleteAccountBody, exportBodySchema, JobAccepted } from '../../../contract/index.js';

const ExportBody = exportBodySchema(isAgeRecipient);

interface Deps {
  exporter: ExportService;
  importJobs: ExportImportJobs;
  account: AccountService;
  config: Config;
}

export const exportRoutes =
  (deps: Deps): FastifyPluginAsyncZod =>
  async (app) => {
    const { exporter, importJobs, account, config } = deps;
    app.post(
      '/api/export',
      {
        config: perUser(config.RATE_LIMIT_EXPORT_PER_HOUR, 3_600_000),
        schema: { body: ExportBody, produces: ['application/octet-stream'], description: 'The whole vault as an age-encrypted tar.' },
      },
      async (req, reply) => {
        const out = await exporter.download(
          requireSession(req),
          req.body.recipient ? { recipient: req.body.recipient } : { passphrase: req.body.passphrase! },
          { requestId: req.id, log: req.log },
          { includeTrash: req.body.includeTrash },
        );
        const date = new Date().toISOString().slice(0, 10);
        return reply
          .header('content-type', 'application/octet-stream')
          .header('content-disposition', `attachment; filename="context-vault-export-${date}.age"`)
          .header('cache-control', 'private, no-store')
          .send(out);
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
        let key: AgeKey | undefined;
        const r = await receiveFile(
          req,
          {
            notMultipart: unsupportedType('Send the export as multipart/form-data: a "passphrase" or "identity" field, then "file".'),
            limits: { fileSize: config.MAX_IMPORT_MB * 1024 * 1024, files: 1 },
            fields: {
              passphrase: (value) => (key = ageKeyFromField('passphrase', value) ?? key),
              identity: (value) => (key = ageKeyFromField('identity', value) ?? key),
            },
          },
          (part) => importJobs.start(session, part.file, key, req.id),
        );
        return reply.code(202).send(r);
      },
    );

    app.delete(
      '/api/account',
      { config: { rateLimit: { max: config.RATE_LIMIT_AUTH_PER_MIN, timeWindow: 60_000 } }, schema: { body: DeleteAccountBody } },
      async (req, reply) => {
        await account.delete(requireSession(req), req.body.passphrase, req.id, req.headers['user-agent']);
        clearSessionCookie(reply, config);
        return reply.code(204).send();
      },
    );
  };
