import type { AuditRepository } from '../repositories/audit.repository.js';
import type { SessionContext } from '../services/keyring.js';
import type { PreferencesService } from '../services/preferences.service.js';
import { buildIpsBundle } from './ips.js';
import { gatherSummary, type SectionKey, type SummaryDeps } from './model.js';
import { renderSummaryPdf } from './pdf.js';

export interface SummaryRequest {
  sections: SectionKey[];
  from?: string;
  to?: string;
  format: 'pdf' | 'fhir';
}

/**
 * Patient summaries to share: gathered from the vault, written in memory as a PDF or an IPS
 * Bundle and handed to the person's browser. Nothing is stored; the audit log notes that a
 * summary was made (never of what).
 */
export class SummaryService {
  constructor(
    private readonly deps: SummaryDeps & { preferences: PreferencesService },
    private readonly audit: AuditRepository,
  ) {}

  async create(session: SessionContext, q: SummaryRequest, requestId?: string): Promise<{ contentType: string; fileName: string; body: Buffer }> {
    const model = await gatherSummary(this.deps, session, q, await this.deps.preferences.labUnits(session));
    const date = model.generatedAt.slice(0, 10);
    const out =
      q.format === 'pdf'
        ? { contentType: 'application/pdf', fileName: `patient-summary-${date}.pdf`, body: Buffer.from(await renderSummaryPdf(model)) }
        : { contentType: 'application/fhir+json', fileName: `patient-summary-${date}.json`, body: Buffer.from(JSON.stringify(buildIpsBundle(model), null, 2)) };
    await this.audit.record('summary_created', session.userId, requestId);
    return out;
  }
}
