/**
 * Where a resource's id is unique: FHIR ids are unique only within one server (HAPI numbers them
 * 1, 2, 3...), so a record's identity is its `Type/id` qualified by an origin. The origin is the
 * server's base URL where the input names it (a sync's connection, an entry's absolute fullUrl, a
 * searchset's self link), an entry's `urn:uuid:`/`urn:oid:` fullUrl (a transaction's ids are local
 * to it; the urn is not), or else the upload itself (see {@link uploadScope}).
 *
 * meta.source is deliberately not an origin: it names the system that wrote that version (HAPI
 * writes the client's request id there), so it can change between two versions of one resource
 * and would turn a correction into a second record.
 */
import { canonicalJson, type Json, objs, sha256Hex, str } from './util.js';

/**
 * A FHIR server's base URL in one spelling: scheme and host lower-cased (the URL parser does
 * that, and drops a default port), no query or fragment, no empty or trailing path segments.
 * Undefined for anything but an absolute http(s) URL.
 */
export function serverBase(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  const path = u.pathname
    .split('/')
    .filter((s) => s !== '')
    .join('/');
  return `${u.protocol}//${u.host}${path ? `/${path}` : ''}`;
}

/**
 * The origin an entry's fullUrl gives: the server base before `/<Type>/<id>[/_history/<v>]`, or
 * the urn itself. Undefined for a relative or unreadable fullUrl.
 */
export function fullUrlOrigin(fullUrl: string | undefined): string | undefined {
  if (!fullUrl) return undefined;
  if (/^urn:(uuid|oid):\S+$/i.test(fullUrl)) return fullUrl.toLowerCase();
  const base = serverBase(fullUrl);
  if (!base) return undefined;
  const m = /^(.*?)\/[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[^/]+)?$/.exec(base);
  return m?.[1] && serverBase(m[1]) ? m[1] : undefined;
}

/**
 * The server a Bundle names in its self link (`https://host/r4/Observation?patient=1`,
 * `.../Patient/1/$everything`): the URL before its first type, operation or `_` segment.
 */
export function bundleLinkOrigin(bundle: Json): string | undefined {
  const self = objs(bundle.link).find((l) => str(l.relation) === 'self');
  const url = str(self?.url);
  if (!url) return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const segs = u.pathname.split('/').filter((s) => s !== '');
  const at = segs.findIndex((s) => /^[A-Z][A-Za-z]+$/.test(s) || s.startsWith('$') || s.startsWith('_'));
  if (at === -1) return undefined;
  return serverBase(`${u.protocol}//${u.host}/${segs.slice(0, at).join('/')}`);
}

/**
 * The origin of entries that name no server: the upload itself, by its resources' content, so the
 * same file imported again has the same identities (and updates in place), while another file
 * without fullUrls, from another portal, cannot replace its records. The Bundle's own id and
 * timestamp are left out: a server gives every download new ones.
 */
export function uploadScope(resources: readonly Json[]): string {
  return `upload:${sha256Hex(canonicalJson(resources)).slice(0, 32)}`;
}

/** `Type/id` qualified by an origin (none: as it is). */
export function qualified(bareId: string, origin: string | undefined): string {
  return origin ? `${bareId}@${origin}` : bareId;
}
