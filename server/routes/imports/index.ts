import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Readable } from 'node:stream';
import { badRequest, tooLarge, unsupportedType } from '../../errors.js';
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
        const declared = Number(req.headers['content-length']);
        if (Number.isFinite(declared) && declared > deps.maxImportBytes) throw tooLarge('The file is larger than this server accepts.');
        const r = await imports.startFhir(session, req.body as Readable, format);
        return reply.code(202).send(r);
      });
    });

    app.post('/api/import/apple-health', { schema: { response: { 202: JobAccepted } } }, async (req, reply) => {
      const session = requireSession(req);
      if (!req.isMultipart()) throw unsupportedType('Send the export as multipart/form-data with a "file" field.');
      // The route's own limit replaces the general upload limit: exports reach gigabytes.
      for await (const part of req.parts({ limits: { fileSize: deps.maxImportBytes, files: 1 } })) {
        if (part.type === 'field') continue;
        if (part.fieldname !== 'file') {
          part.file.resume();
          continue;
        }
        const r = await imports.startAppleHealth(session, part.file);
        return reply.code(202).send(r);
      }
      throw badRequest('No file was sent. Use a multipart field named "file".', 'missing_file');
    });

    app.post('/api/import/fitbit', { schema: { response: { 202: JobAccepted } } }, async (req, reply) => {
      const session = requireSession(req);
      if (!req.isMultipart()) throw unsupportedType('Send the archive as multipart/form-data with a "file" field.');
      let timezone: string | undefined;
      // Fields before the file: the archive stores no time zone, the browser sends its own.
      for await (const part of req.parts({ limits: { fileSize: deps.maxImportBytes, files: 1 } })) {
        if (part.type === 'field') {
          if (part.fieldname === 'timezone' && typeof part.value === 'string') timezone = part.value.trim();
          continue;
        }
        if (part.fieldname !== 'file') {
          part.file.resume();
          continue;
        }
        const r = await imports.startFitbit(session, part.file, timezone);
        return reply.code(202).send(r);
      }
      throw badRequest('No file was sent. Use a multipart field named "file".', 'missing_file');
    });

    app.get('/api/jobs/:id', { schema: { params: IdParams, response: { 200: Job } } }, async (req) => imports.getJob(requireSession(req), req.params.id));

    app.get('/api/jobs', { schema: { querystring: ListJobsQuery, response: { 200: JobList } } }, async (req) => ({
      jobs: await imports.listJobs(requireSession(req), req.query.limit),
    }));
  };
