/**
 * A SMART on FHIR server for tests, shaped like Epic: `<base>/.well-known/smart-configuration`
 * (built from Apotti's captured Epic document, endpoints pointed here), OAuth under `/oauth2`
 * (see `test-support/integrations/oauth/auth-server.ts`: PKCE S256, state, scopes, refresh rotation
 * and revocation, expiry), `aud` required on /authorize, `patient` launch context, and an R4
 * endpoint serving the sample resources with Epic's quirks:
 * - searches are paged 50 per page with a `next` link;
 * - an Observation search without `category` is answered 400 with an OperationOutcome;
 * - a resource type outside the granted scopes (or listed in `deniedTypes`) is answered 403
 *   with an OperationOutcome;
 * - an empty search still carries an OperationOutcome warning entry (search.mode "outcome");
 * - `_lastUpdated` is honoured only when `supportLastUpdated` (Epic does not list it).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, startAuthServer, type AuthServer, type TestClient } from '../oauth/auth-server.js';

type Json = Record<string, any>;

export const SAMPLE_PATIENT_ID = 'cbc86e51-9eca-3855-76ec-c058f72c5761';
const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../integrations/fhir/fixtures');
const EPIC_FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../integrations/epic/fixtures');

/**
 * The sample resources: one Synthea patient's NDJSON (Patient, Condition, AllergyIntolerance,
 * Immunization, MedicationRequest, DocumentReference) and the US Core vital-sign and lab
 * examples, re-pointed at that patient, plus `extraVitals` generated heart-rate Observations so
 * the vital-signs search spans several 50-entry pages.
 */
export function loadSampleResources(extraVitals = 120): Json[] {
  const out: Json[] = [];
  for (const f of readdirSync(FIXTURES)) {
    if (f.endsWith('.ndjson')) {
      for (const line of readFileSync(path.join(FIXTURES, f), 'utf8').split('\n')) if (line.trim()) out.push(JSON.parse(line));
    }
  }
  for (const f of ['blood-pressure.json', 'heart-rate.json', 'weight.json', 'observation-cbc-hemoglobin.json', 'diagnosticreport-cbc.json']) {
    const r = JSON.parse(readFileSync(path.join(FIXTURES, f), 'utf8')) as Json;
    r.subject = { reference: `Patient/${SAMPLE_PATIENT_ID}` };
    out.push(r);
  }
  const hr = JSON.parse(readFileSync(path.join(FIXTURES, 'heart-rate.json'), 'utf8')) as Json;
  for (let i = 0; i < extraVitals; i++) {
    const at = new Date(Date.UTC(2024, 0, 1) + i * 3_600_000 * 7).toISOString();
    out.push({
      ...hr,
      id: `hr-gen-${i}`,
      subject: { reference: `Patient/${SAMPLE_PATIENT_ID}` },
      effectiveDateTime: at,
      valueQuantity: { ...hr.valueQuantity, value: 60 + (i % 40) },
    });
  }
  return out;
}

export interface SmartServerOptions {
  clients: TestClient[];
  resources?: Json[];
  patientId?: string;
  /** Advertise the SMART v2 scope syntax (`patient/*.rs`). */
  v2Scopes?: boolean;
  supportLastUpdated?: boolean;
  accessTokenTtlSec?: number;
  /** Replace fields of the discovery document (e.g. point token_endpoint elsewhere). */
  configOverride?: (origin: string) => Json;
}

export interface SmartServer {
  auth: AuthServer;
  /** The FHIR base URL (what EPIC_FHIR_BASE_URLS lists). */
  fhirBase: string;
  /** Resource types answered 403 whatever the scopes. */
  deniedTypes: Set<string>;
  /** FHIR requests seen: method, path and query names only (never values that could be tokens). */
  fhirRequests: Array<{ path: string; params: string[]; status: number }>;
  /** Answer the next `n` FHIR requests with 429 and Retry-After. */
  rateLimitFhir(n: number, retryAfterSec?: number): void;
  /**
   * How searches of `misbehaviourType` (every type when unset) are answered, after the
   * bearer check: `huge` streams a valid Bundle of ~20 MiB, `malformed` cut-off JSON, `html` a
   * maintenance page, `notbundle` a Patient of another id, `foreign` the real page plus entries
   * of another patient, another type and junk, `loop` a page whose `next` is itself, `endless`
   * empty pages each linking to a new one, `echo-token` a 500 whose OperationOutcome quotes the
   * request's bearer token. Null: behave.
   */
  misbehaviour: null | 'huge' | 'malformed' | 'html' | 'notbundle' | 'foreign' | 'loop' | 'endless' | 'echo-token';
  misbehaviourType?: string;
  /**
   * Holds every FHIR request until `release()`; `reached` resolves once one is waiting, so a
   * test can act while a sync is certainly in flight.
   */
  holdFhir(): { reached: Promise<void>; release(): void };
  /** Adds a resource, or replaces the one of the same type and id: a server answers its current version only. */
  addResource(r: Json): void;
  close(): Promise<void>;
}

function outcome(severity: string, code: string, text: string): Json {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, details: { text } }] };
}

const refId = (ref: unknown) => (typeof ref === 'string' ? ref.split('/').pop() : undefined);

function patientOf(r: Json): string | undefined {
  if (r.resourceType === 'Patient') return r.id;
  return refId(r.subject?.reference ?? r.patient?.reference);
}

function hasCategory(r: Json, code: string): boolean {
  return (r.category ?? []).some((c: Json) => (c.coding ?? []).some((x: Json) => x.code === code));
}

export async function startSmartServer(opts: SmartServerOptions): Promise<SmartServer> {
  const patientId = opts.patientId ?? SAMPLE_PATIENT_ID;
  const resources = [...(opts.resources ?? loadSampleResources())];
  const deniedTypes = new Set<string>();
  const fhirRequests: SmartServer['fhirRequests'] = [];
  let limited = 0;
  let retryAfter = 1;
  const FHIR_PATH = '/api/FHIR/R4';
  let auth!: AuthServer;
  // The object handed back: its `misbehaviour` switch is read on each request.
  let state: Pick<SmartServer, 'misbehaviour' | 'misbehaviourType'> = { misbehaviour: null };
  let held: { gate: Promise<void>; arrived: () => void } | null = null;
  const base = () => `${auth.origin}${FHIR_PATH}`;
  const epicConfig = JSON.parse(readFileSync(path.join(EPIC_FIXTURES, 'epic_smart-configuration_apotti-fi.json'), 'utf8')) as Json;

  const page = (res: ServerResponse, url: URL, matches: Json[]) => {
    const count = Math.min(Number(url.searchParams.get('_count') ?? 50) || 50, 50);
    const offset = Number(url.searchParams.get('_getpagesoffset') ?? 0) || 0;
    const slice = matches.slice(offset, offset + count);
    const self = new URL(url.toString().replace(url.origin, auth.origin));
    const link: Json[] = [{ relation: 'self', url: self.toString() }];
    if (offset + count < matches.length) {
      const next = new URL(self);
      next.searchParams.set('_getpagesoffset', String(offset + count));
      next.searchParams.set('_count', String(count));
      link.push({ relation: 'next', url: next.toString() });
    }
    const entry: Json[] = slice.map((r) => ({ fullUrl: `${base()}/${r.resourceType}/${r.id}`, resource: r, search: { mode: 'match' } }));
    if (matches.length === 0) {
      entry.push({ resource: outcome('warning', 'processing', 'No resources found for this search.'), search: { mode: 'outcome' } });
    }
    sendJson(res, 200, { resourceType: 'Bundle', type: 'searchset', total: matches.length, link, entry }, { 'content-type': 'application/fhir+json' });
  };

  const fhir = (req: IncomingMessage, res: ServerResponse, url: URL): boolean => {
    if (!url.pathname.startsWith(FHIR_PATH)) return false;
    const rest = url.pathname.slice(FHIR_PATH.length);
    const log = (status: number) => fhirRequests.push({ path: rest, params: [...url.searchParams.keys()], status });
    if (req.method === 'GET' && rest === '/.well-known/smart-configuration') {
      log(200);
      const o = auth.origin;
      const doc: Json = {
        ...epicConfig,
        issuer: auth.issuer,
        jwks_uri: auth.jwksUri,
        authorization_endpoint: auth.authorizationEndpoint,
        token_endpoint: auth.tokenEndpoint,
        revocation_endpoint: auth.revocationEndpoint,
        code_challenge_methods_supported: ['S256'],
        scopes_supported: [...epicConfig.scopes_supported, 'launch/patient', 'offline_access', opts.v2Scopes ? 'patient/*.rs' : 'patient/*.read'],
        capabilities: [...epicConfig.capabilities, ...(opts.v2Scopes ? ['permission-v2'] : ['permission-v1'])],
        ...(opts.configOverride?.(o) ?? {}),
      };
      sendJson(res, 200, doc);
      return true;
    }
    if (req.method === 'GET' && rest === '/metadata') {
      log(200);
      const types = [
        'Patient',
        'Observation',
        'Condition',
        'MedicationRequest',
        'AllergyIntolerance',
        'Immunization',
        'DiagnosticReport',
        'DocumentReference',
        'Procedure',
        'Encounter',
      ];
      sendJson(res, 200, {
        resourceType: 'CapabilityStatement',
        status: 'active',
        kind: 'instance',
        fhirVersion: '4.0.1',
        rest: [
          {
            mode: 'server',
            resource: types.map((type) => ({
              type,
              interaction: [{ code: 'read' }, { code: 'search-type' }],
              searchParam: [
                { name: 'patient', type: 'reference' },
                { name: '_count', type: 'number' },
                ...(opts.supportLastUpdated ? [{ name: '_lastUpdated', type: 'date' }] : []),
              ],
            })),
          },
        ],
      });
      return true;
    }
    if (limited > 0) {
      limited -= 1;
      log(429);
      sendJson(res, 429, outcome('error', 'throttled', 'Too many requests.'), { 'retry-after': String(retryAfter) });
      return true;
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const info = auth.checkAccessToken(bearer);
    if (!info) {
      log(401);
      sendJson(res, 401, outcome('error', 'login', 'The access token is missing, invalid or expired.'), { 'www-authenticate': 'Bearer error="invalid_token"' });
      return true;
    }
    const m = /^\/([A-Za-z]+)(?:\/([A-Za-z0-9.-]+))?$/.exec(rest);
    if (!m || req.method !== 'GET') {
      log(404);
      sendJson(res, 404, outcome('error', 'not-found', 'Unknown route.'));
      return true;
    }
    const [, type, id] = m as unknown as [string, string, string | undefined];
    const scopes = info.scope.split(' ');
    const allowed = scopes.some((s) => s === 'patient/*.read' || s === 'patient/*.rs' || s === `patient/${type}.read` || s === `patient/${type}.rs`);
    if (!allowed || deniedTypes.has(type)) {
      log(403);
      sendJson(res, 403, outcome('error', 'forbidden', `The authorized scopes do not allow access to ${type}.`));
      return true;
    }
    if (id) {
      const r = resources.find((x) => x.resourceType === type && x.id === id && patientOf(x) === patientId);
      log(r ? 200 : 404);
      if (r) sendJson(res, 200, r);
      else sendJson(res, 404, outcome('error', 'not-found', 'Resource not found.'));
      return true;
    }
    const p = url.searchParams.get('patient') ?? url.searchParams.get('subject');
    if (type === 'Observation' && !url.searchParams.get('category')) {
      log(400);
      sendJson(res, 400, outcome('fatal', 'required', 'Must specify a category or code when searching Observations.'));
      return true;
    }
    if (refId(p) !== patientId) {
      log(400);
      sendJson(res, 400, outcome('fatal', 'required', 'A patient parameter for the authorized patient is required.'));
      return true;
    }
    let matches = resources.filter((r) => r.resourceType === type && patientOf(r) === patientId);
    const cat = url.searchParams.get('category');
    if (cat) matches = matches.filter((r) => hasCategory(r, cat));
    const lu = url.searchParams.get('_lastUpdated');
    if (lu && opts.supportLastUpdated && lu.startsWith('gt')) {
      const since = Date.parse(lu.slice(2));
      matches = matches.filter((r) => Date.parse(r.meta?.lastUpdated ?? '1970-01-01T00:00:00Z') > since);
    }
    if (state.misbehaviour === 'echo-token' && (!state.misbehaviourType || state.misbehaviourType === type)) {
      // Some gateways quote the request, credentials included, in their error text.
      log(500);
      sendJson(res, 500, outcome('error', 'exception', `Backend failure for request GET ${rest} with Authorization: Bearer ${bearer}`));
      return true;
    }
    if (state.misbehaviour && (!state.misbehaviourType || state.misbehaviourType === type)) {
      log(200);
      misbehave(state.misbehaviour, res, url, type, matches);
      return true;
    }
    log(200);
    page(res, url, matches);
    return true;
  };

  const misbehave = (mode: NonNullable<SmartServer['misbehaviour']>, res: ServerResponse, url: URL, type: string, matches: Json[]) => {
    const fhirJson = { 'content-type': 'application/fhir+json' };
    const self = new URL(url.toString().replace(url.origin, auth.origin)).toString();
    // The client stops reading mid-stream on purpose; the broken pipe is expected.
    res.on('error', () => {});
    switch (mode) {
      case 'huge': {
        res.writeHead(200, fhirJson);
        res.write('{"resourceType":"Bundle","type":"searchset","entry":[],"pad":"');
        const mib = 'x'.repeat(1024 * 1024);
        let left = 20;
        const more = () => {
          while (left > 0 && !res.destroyed) {
            left -= 1;
            if (!res.write(mib)) return void res.once('drain', more);
          }
          if (!res.destroyed) res.end('"}');
        };
        more();
        return;
      }
      case 'malformed':
        res.writeHead(200, fhirJson);
        res.end('{"resourceType":"Bundle","entry":[{"resource":');
        return;
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html><body>PROVIDER-MAINTENANCE-CANARY</body></html>');
        return;
      case 'notbundle':
        sendJson(res, 200, { resourceType: 'Patient', id: 'someone-else', name: [{ family: 'Intruder' }] }, fhirJson);
        return;
      case 'foreign': {
        const other = { reference: 'Patient/someone-else' };
        const entry: unknown[] = [
          ...matches.slice(0, 50).map((r) => ({ resource: r, search: { mode: 'match' } })),
          null,
          5,
          { resource: null },
          { resource: { resourceType: type } },
          { resource: { resourceType: 'Patient', id: 'someone-else', name: [{ family: 'Intruder' }] }, search: { mode: 'match' } },
          { resource: { ...(matches[0] ?? { resourceType: type }), id: 'foreign-1', subject: other, patient: undefined }, search: { mode: 'match' } },
          {
            resource: { resourceType: type === 'Procedure' ? 'Condition' : 'Procedure', id: 'wrong-type', subject: { reference: `Patient/${patientId}` } },
            search: { mode: 'match' },
          },
          { resource: { resourceType: 'Observation', id: 'included-other', subject: other }, search: { mode: 'include' } },
        ];
        sendJson(res, 200, { resourceType: 'Bundle', type: 'searchset', total: matches.length, link: [{ relation: 'self', url: self }], entry }, fhirJson);
        return;
      }
      case 'loop':
        sendJson(res, 200, { resourceType: 'Bundle', type: 'searchset', link: [{ relation: 'next', url: self }], entry: [] }, fhirJson);
        return;
      case 'endless': {
        const next = new URL(self);
        next.searchParams.set('_getpagesoffset', String((Number(url.searchParams.get('_getpagesoffset')) || 0) + 50));
        sendJson(res, 200, { resourceType: 'Bundle', type: 'searchset', link: [{ relation: 'next', url: next.toString() }], entry: [] }, fhirJson);
        return;
      }
    }
  };

  auth = await startAuthServer(
    {
      clients: opts.clients,
      oauthPath: '/oauth2',
      issuerPath: '/oauth2',
      rotateRefreshTokens: true,
      accessTokenTtlSec: opts.accessTokenTtlSec ?? 3600,
      launchContext: { patient: patientId, need_patient_banner: true },
      subject: `Patient/${patientId}`,
    },
    (req, res, url) => {
      if (!held || !url.pathname.startsWith(FHIR_PATH)) return fhir(req, res, url);
      held.arrived();
      return held.gate.then(() => fhir(req, res, url));
    },
  );
  // The FHIR base (the `aud` /authorize demands, and fhirUser) is known only once the port is.
  auth.requireAud = base();
  auth.idTokenClaims.fhirUser = `${base()}/Patient/${patientId}`;
  const server: SmartServer = {
    auth,
    fhirBase: base(),
    misbehaviour: null,
    deniedTypes,
    fhirRequests,
    rateLimitFhir: (n, sec = 1) => {
      limited = n;
      retryAfter = sec;
    },
    holdFhir: () => {
      let release!: () => void;
      let arrived!: () => void;
      const reached = new Promise<void>((r) => (arrived = r));
      const gate = new Promise<void>((r) => (release = r));
      held = { gate, arrived };
      return {
        reached,
        release: () => {
          held = null;
          release();
        },
      };
    },
    addResource: (r) => {
      const at = resources.findIndex((x) => x.resourceType === r.resourceType && x.id !== undefined && x.id === r.id);
      if (at >= 0) resources[at] = r;
      else resources.push(r);
    },
    close: () => auth.close(),
  };
  state = server;
  return server;
}
