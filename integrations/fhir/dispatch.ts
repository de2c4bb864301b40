/**
 * One resource -> one record: picks the resource type's handler (resources/), then adds what
 * every record has (external id and version, status tags, the stored resource, attachments).
 */
import type { QuantitySample, RecordInput } from '../types.js';
import { conceptName } from './codes.js';
import { allergy } from './resources/allergy-intolerance.js';
import { condition } from './resources/condition.js';
import type { Ctx, Handler } from './resources/context.js';
import { diagnosticReport } from './resources/diagnostic-report.js';
import { documentReference } from './resources/document-reference.js';
import { encounter } from './resources/encounter.js';
import { generic } from './resources/generic.js';
import { immunization } from './resources/immunization.js';
import { medication } from './resources/medication.js';
import { qualified, serverBase } from './origin.js';
import { observation } from './resources/observation.js';
import { patient } from './resources/patient.js';
import { procedure } from './resources/procedure.js';
import type { FhirIssue, TransformOptions, TransformResult } from './result.js';
import { canonicalJson, type Json, obj, objs, sha256Hex, str, table } from './util.js';

/** Which record each sample came from, so Bundle de-duplication drops both together. */
export const sampleOwner = new WeakMap<QuantitySample, RecordInput>();

const HANDLERS = table<Handler>({
  Patient: patient,
  Observation: observation,
  Condition: condition,
  MedicationRequest: medication,
  MedicationStatement: medication,
  AllergyIntolerance: allergy,
  Immunization: immunization,
  DiagnosticReport: diagnosticReport,
  Procedure: procedure,
  Encounter: encounter,
  DocumentReference: documentReference,
});

/**
 * Resources in which a FHIR server describes itself (what it supports, its profiles and search
 * parameters): they come along in exports and searches, but say nothing about the person.
 */
const SERVER_METADATA = new Set([
  'CapabilityStatement',
  'TerminologyCapabilities',
  'OperationDefinition',
  'SearchParameter',
  'StructureDefinition',
  'CompartmentDefinition',
  'ImplementationGuide',
]);

/** Options as a Bundle hands them to one entry: with the origin that entry's fullUrl (or its Bundle) gives. */
export interface EntryOptions extends TransformOptions {
  entryOrigin?: string;
}

/** The origin a record's identity is qualified by: the caller's (a sync's connection) first, else the entry's. */
export function originOf(opts: EntryOptions): string | undefined {
  const given = opts.origin?.trim();
  if (given) return serverBase(given) ?? given;
  return opts.entryOrigin;
}

export function transformOne(r: Json, opts: EntryOptions, out: TransformResult): void {
  const rt = r.resourceType as string;
  const id = str(r.id);
  if (rt === 'OperationOutcome') {
    out.issues.push(...outcomeIssues(r));
    return;
  }
  if (SERVER_METADATA.has(rt)) {
    out.issues.push({
      severity: 'information',
      kind: 'server-metadata',
      ...(id ? { resource: `${rt}/${id}` } : {}),
      message: `A ${rt} describes the health system's server, not the person's health, so it was not imported`,
    });
    return;
  }
  const hash = sha256Hex(canonicalJson(r));
  // A content hash is unique wherever the resource came from; an id only within its origin.
  const bareId = id ? `${rt}/${id}` : undefined;
  const externalId = bareId ? qualified(bareId, originOf(opts)) : `${rt}/sha256-${hash.slice(0, 32)}`;
  const meta = obj(r.meta);
  const externalVersion = str(meta?.versionId) ?? str(meta?.lastUpdated) ?? `sha256:${hash.slice(0, 32)}`;
  const ctx: Ctx = { rt, resource: r, stored: structuredClone(r), opts, issues: [], attachments: [], stripped: [], externalId };
  const built = (HANDLERS[rt] ?? generic)(r, ctx);
  const status = str(r.status);
  const tags = [...new Set(built.tags.filter((t) => t !== ''))];
  if (status === 'entered-in-error' && !tags.includes('entered-in-error')) tags.push('entered-in-error');
  const record: RecordInput = {
    kind: built.kind ?? 'record',
    source: opts.source ?? 'fhir',
    type: built.type,
    externalId,
    externalVersion,
    occurredAt: built.occurredAt ?? null,
    title: built.title.length > 200 ? `${built.title.slice(0, 197)}…` : built.title,
    text: built.text,
    tags,
    data: { resource: ctx.stored, resourceType: rt, ...built.data, ...(ctx.stripped.length ? { strippedAttachments: ctx.stripped } : {}) },
  };
  // Stored before ids were qualified by their origin: such a record is this one (items.service).
  if (bareId && bareId !== externalId) record.legacyExternalId = bareId;
  if (ctx.attachments.length) record.attachments = ctx.attachments;
  out.records.push(record);
  for (const s of built.samples ?? []) {
    sampleOwner.set(s, record);
    out.samples.push(s);
  }
  out.issues.push(...ctx.issues.map((i) => ({ ...i, resource: i.resource ?? externalId })));
}

export function outcomeIssues(oo: Json): FhirIssue[] {
  const list = objs(oo.issue);
  if (list.length === 0) {
    return [{ severity: 'information', kind: 'operation-outcome', message: 'OperationOutcome without issues' }];
  }
  return list.map((i) => {
    const sev = str(i.severity);
    const severity: FhirIssue['severity'] = sev === 'fatal' || sev === 'error' || sev === 'warning' ? sev : 'information';
    const parts = [conceptName(i.details), str(i.diagnostics)].filter((x): x is string => !!x);
    const details = parts.length ? [...new Set(parts)].join(' — ') : undefined;
    const code = str(i.code);
    return {
      severity,
      kind: 'operation-outcome' as const,
      message: `Server ${severity}${code ? ` (${code})` : ''}: ${details ?? 'no details'}`,
      ...(code ? { code } : {}),
      ...(details ? { details } : {}),
    };
  });
}
