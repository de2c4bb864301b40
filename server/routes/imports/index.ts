import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Readable } from 'node:stream';
import { tooLarge, unsupportedType } from '../../errors.js';
import { receiveFile } from '../../http/multipart.js';
import { requireSession } from '../../http/session.js';
import type { ImportsService } from '../../services/imports.service.js';
import { IdParams, Job, JobAccepted, JobList, ListJobsQuery } from '../../../contract/index.js';
import { FHIR_TYPES } from './schema.js';

export const importsRoutes =
  (deps: { imports: ImportsService; maxImportBytes: number }): FastifyPluginAsyncZod =>
  async (app) => {
    const { imports } = deps;

    // FHIR bodies reach the handler as a stream (this scope only): the service encrypts them to
    // disk as they arrive, so a large Bundle or NDJSON file is never whole in memory or on disk
    // in clear.
    await app.register(async (scope) => {
      scope.removeContentTypeParser(['application/json']);
      scope.addContentTypeParser(Object.keys(FHIR_TYPES), (_req, payload, done) => done(null, payload));
      scope.post('/api/import/fhir', { bodyLimit: deps.maxImportBytes, schema: { response: { 202: JobAccepted } } }, async (req, reply) => {
        const session = requireSession(req);
        const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() as keyof typeof FHIR_TYPES;
        const format = FHIR_TYPES[type];
        if (!format) throw unsupportedType('Send FHIR as application/fhir+json (a Bundle or resource) or application/fhir+ndjson.');
        // The body is read as sent: compressed, it would only be refused later as "not FHIR".
        const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
        if (encoding !== 'identity') throw unsupportedType(`Send the file uncompressed: this route does not take Content-Encoding "${encoding.slice(0, 20)}".`);
        const declared = Number(req.headers['content-length']);
        if (Number.isFinite(declared) && declared > deps.maxImportBytes) throw tooLarge('The file is larger than this server accepts.');
        const r = await imports.startFhir(session, req.body as Readable, format);
        return reply.code(202).send(r);
      });
    });

    // The routes' own limit replaces the general upload limit: exports reach gigabytes.
    const limits = { fileSize: deps.maxImportBytes, files: 1 };

    app.post('/api/import/apple-health', { schema: { response: { 202: JobAccepted } } }, async (req, reply) => {
      const session = requireSession(req);
      const r = await receiveFile(req, { notMultipart: unsupportedType('Send the export as multipart/form-data with a "file" field.'), limits }, (part) =>
        imports.startAppleHealth(session, part.file),
      );
      return reply.code(202).send(r);
    });

    app.post('/api/import/fitbit', { schema: { response: { 202: JobAccepted } } }, async (req, reply) => {
      const session = requireSession(req);
      // Fields before the file (after it is a 400): the archive stores neither the time zone (the
      // browser sends its own) nor the unit of its classic weight files.
      const opts: { timezone?: string; weightUnit?: string } = {};
      const r = await receiveFile(
        req,
        {
          notMultipart: unsupportedType('Send the archive as multipart/form-data with a "file" field.'),
          limits,
          fields: { timezone: (value) => (opts.timezone = value.trim()), weightUnit: (value) => (opts.weightUnit = value.trim()) },
        },
        (part) => imports.startFitbit(session, part.file, opts),
      );
      return reply.code(202).send(r);
    });

    app.get('/api/jobs/:id', { schema: { params: IdParams, response: { 200: Job } } }, async (req) => imports.getJob(requireSession(req), req.params.id));

    app.get('/api/jobs', { schema: { querystring: ListJobsQuery, response: { 200: JobList } } }, async (req) => ({
      jobs: await imports.listJobs(requireSession(req), req.query.limit),
    }));
  };
