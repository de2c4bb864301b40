import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { LocalDate } from '../../../contract/index.js';
import { badRequest } from '../../errors.js';
import { requireSession } from '../../http/session.js';
import { perUser } from '../../http/rate-limit.js';
import { SECTIONS } from '../../summary/model.js';
import type { SummaryService } from '../../summary/summary.service.js';

export const SummaryBody = z.object({
  sections: z.array(z.enum(SECTIONS)).min(1, 'choose at least one section').max(SECTIONS.length),
  from: LocalDate.optional(),
  to: LocalDate.optional(),
  format: z.enum(['pdf', 'fhir']),
});

/** POST /api/summary: a patient summary as a PDF or an IPS document Bundle, made on request. */
export const summaryRoutes =
  (deps: { summary: SummaryService; perMinute: number }): FastifyPluginAsyncZod =>
  async (app) => {
    app.post('/api/summary', { schema: { body: SummaryBody }, config: perUser(deps.perMinute, '1 minute') }, async (req, reply) => {
      const session = requireSession(req);
      if (req.body.from && req.body.to && req.body.from > req.body.to) throw badRequest('from must not be after to.', 'invalid_range');
      const out = await deps.summary.create(session, { ...req.body, sections: [...new Set(req.body.sections)] }, req.id);
      return reply
        .type(out.contentType)
        .header('content-disposition', `attachment; filename="${out.fileName}"`)
        .header('content-security-policy', "sandbox; default-src 'none'")
        .send(out.body);
    });
  };
