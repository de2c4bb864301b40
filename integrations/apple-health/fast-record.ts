/**
 * Fast path for the element that makes up nearly all of an export.xml: a self-closing top-level
 * `<Record type=".." sourceName=".." unit=".." startDate=".." endDate=".." value=".."/>`.
 * {@link scanRecord} reads one such tag straight from the decoded text, accepting only a strict
 * subset of XML it can check exactly as saxes would; anything else (children, single quotes,
 * whitespace around `=`, raw tabs or newlines in a value, unknown entities, odd names, duplicate
 * attributes, characters XML forbids) answers BAIL and the caller hands the text to saxes, so
 * errors and unusual shapes keep saxes' exact behaviour.
 */

/** The tag is not the simple shape: let saxes parse it. */
export const BAIL = -1;
/** The text ends inside the tag: retry with more text. */
export const MORE = -2;

/** The attributes the importer reads from a quantity or sleep Record; undefined when absent. */
export interface FastRecord {
  type: string | undefined;
  sourceName: string | undefined;
  unit: string | undefined;
  startDate: string | undefined;
  endDate: string | undefined;
  value: string | undefined;
  /** The tag ended with `>`, not `/>`: children and `</Record>` follow, for saxes to parse. */
  open: boolean;
  // Last raw (entity-free) strings seen, reused so repeated values are not copied again.
  prevType: string;
  prevSource: string;
  prevUnit: string;
}

export function newFastRecord(): FastRecord {
  return {
    type: undefined,
    sourceName: undefined,
    unit: undefined,
    startDate: undefined,
    endDate: undefined,
    value: undefined,
    open: false,
    prevType: '\u0000',
    prevSource: '\u0000',
    prevUnit: '\u0000',
  };
}

const T_TYPE = 1;
const T_SOURCE = 2;
const T_UNIT = 4;
const T_START = 8;
const T_END = 16;
const T_VALUE = 32;

// Other attributes' names (offset, length), for the duplicate check saxes makes.
const MAX_OTHER = 32;
const otherAt = new Int32Array(MAX_OTHER);
const otherLen = new Int32Array(MAX_OTHER);

/** XML 1.0 Char, as saxes checks character references. */
function isXmlChar(c: number): boolean {
  return c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

/**
 * `s[vs, ve)` with entity and character references replaced exactly as saxes does (the five
 * predefined entities, `&#N;`, `&#xH;` naming an XML Char), or null for any other reference.
 */
export function decodeAttrValue(s: string, vs: number, ve: number): string | null {
  let out = '';
  let last = vs;
  let k = s.indexOf('&', vs);
  while (k >= 0 && k < ve) {
    const semi = s.indexOf(';', k + 1);
    if (semi < 0 || semi >= ve) return null;
    const ent = s.slice(k + 1, semi);
    let rep: string;
    switch (ent) {
      case 'amp':
        rep = '&';
        break;
      case 'lt':
        rep = '<';
        break;
      case 'gt':
        rep = '>';
        break;
      case 'quot':
        rep = '"';
        break;
      case 'apos':
        rep = "'";
        break;
      default: {
        let num = NaN;
        if (ent[0] === '#') {
          if (ent[1] === 'x' && /^#x[0-9a-f]+$/i.test(ent)) num = parseInt(ent.slice(2), 16);
          else if (/^#[0-9]+$/.test(ent)) num = parseInt(ent.slice(1), 10);
        }
        if (!isXmlChar(num)) return null;
        rep = String.fromCodePoint(num);
      }
    }
    out += s.slice(last, k) + rep;
    last = semi + 1;
    k = s.indexOf('&', last);
  }
  return out + s.slice(last, ve);
}

/** Whether every reference in `s[vs, ve)` is one decodeAttrValue accepts, building no string. */
function referencesValid(s: string, vs: number, ve: number): boolean {
  let k = s.indexOf('&', vs);
  while (k >= 0 && k < ve) {
    const semi = s.indexOf(';', k + 1);
    if (semi < 0 || semi >= ve) return false;
    const len = semi - k - 1;
    const named =
      (len === 2 && (s.startsWith('lt', k + 1) || s.startsWith('gt', k + 1))) ||
      (len === 3 && s.startsWith('amp', k + 1)) ||
      (len === 4 && (s.startsWith('quot', k + 1) || s.startsWith('apos', k + 1)));
    if (!named && decodeAttrValue(s, k, semi + 1) === null) return false;
    k = s.indexOf('&', semi + 1);
  }
  return true;
}

const isNameStart = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
const isNameChar = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45 || c === 46;

/**
 * Reads the `<Record` tag starting at `s[j]` into `r`. Returns the index just past its `/>` (or
 * its `>`, with `r.open` set), {@link BAIL} or {@link MORE}.
 */
export function scanRecord(s: string, j: number, r: FastRecord): number {
  const n = s.length;
  r.type = r.sourceName = r.unit = r.startDate = r.endDate = r.value = undefined;
  r.open = false;
  let seen = 0;
  let nOther = 0;
  let p = j + 7; // past "<Record"
  for (;;) {
    if (p >= n) return MORE;
    let c = s.charCodeAt(p);
    if (c === 47) {
      if (p + 1 >= n) return MORE;
      return s.charCodeAt(p + 1) === 62 ? p + 2 : BAIL;
    }
    if (c === 62) {
      r.open = true;
      return p + 1;
    }
    // Saxes requires whitespace before each attribute.
    if (c !== 32 && c !== 10 && c !== 9 && c !== 13) return BAIL;
    do {
      if (++p >= n) return MORE;
      c = s.charCodeAt(p);
    } while (c === 32 || c === 10 || c === 9 || c === 13);
    if (c === 47 || c === 62) continue;
    if (!isNameStart(c)) return BAIL;
    const ns = p;
    do {
      if (++p >= n) return MORE;
      c = s.charCodeAt(p);
    } while (isNameChar(c));
    if (c !== 61) return BAIL; // '=' right after the name
    const nl = p - ns;
    if (++p >= n) return MORE;
    if (s.charCodeAt(p) !== 34) return BAIL; // double quotes only
    const vs = p + 1;
    let amp = false;
    for (;;) {
      if (++p >= n) return MORE;
      c = s.charCodeAt(p);
      if (c === 34) break;
      // Raw tab/newline/CR are normalised by saxes, '<' is an error: both go to saxes.
      if (c < 0x20 || c === 60) return BAIL;
      if (c === 38) amp = true;
      else if (c >= 0xd800) {
        if (c < 0xdc00) {
          if (p + 1 >= n) return MORE;
          const d = s.charCodeAt(p + 1);
          if (d < 0xdc00 || d > 0xdfff) return BAIL;
          p++;
        } else if (c < 0xe000 || c > 0xfffd) return BAIL;
      }
    }
    const ve = p;
    p++;
    let bit = 0;
    switch (nl) {
      case 4:
        if (s.startsWith('type', ns)) bit = T_TYPE;
        else if (s.startsWith('unit', ns)) bit = T_UNIT;
        break;
      case 5:
        if (s.startsWith('value', ns)) bit = T_VALUE;
        break;
      case 7:
        if (s.startsWith('endDate', ns)) bit = T_END;
        break;
      case 9:
        if (s.startsWith('startDate', ns)) bit = T_START;
        break;
      case 10:
        if (s.startsWith('sourceName', ns)) bit = T_SOURCE;
        break;
    }
    if (bit === 0) {
      // An attribute the importer does not read: only checked (duplicates, references).
      for (let k = 0; k < nOther; k++) {
        if (otherLen[k] !== nl) continue;
        const o = otherAt[k]!;
        let same = true;
        for (let m = 0; m < nl; m++) {
          if (s.charCodeAt(o + m) !== s.charCodeAt(ns + m)) {
            same = false;
            break;
          }
        }
        if (same) return BAIL;
      }
      if (nOther === MAX_OTHER) return BAIL;
      otherAt[nOther] = ns;
      otherLen[nOther++] = nl;
      if (amp && !referencesValid(s, vs, ve)) return BAIL;
      continue;
    }
    if (seen & bit) return BAIL;
    seen |= bit;
    let v: string | null;
    if (amp) {
      v = decodeAttrValue(s, vs, ve);
      if (v === null) return BAIL;
    } else {
      // Repeated type, source and unit strings: reuse the previous copy when the raw text matches.
      const len = ve - vs;
      if (bit === T_TYPE) {
        v = r.prevType.length === len && s.startsWith(r.prevType, vs) ? r.prevType : (r.prevType = s.slice(vs, ve));
      } else if (bit === T_SOURCE) {
        v = r.prevSource.length === len && s.startsWith(r.prevSource, vs) ? r.prevSource : (r.prevSource = s.slice(vs, ve));
      } else if (bit === T_UNIT) {
        v = r.prevUnit.length === len && s.startsWith(r.prevUnit, vs) ? r.prevUnit : (r.prevUnit = s.slice(vs, ve));
      } else v = s.slice(vs, ve);
    }
    switch (bit) {
      case T_TYPE:
        r.type = v;
        break;
      case T_SOURCE:
        r.sourceName = v;
        break;
      case T_UNIT:
        r.unit = v;
        break;
      case T_START:
        r.startDate = v;
        break;
      case T_END:
        r.endDate = v;
        break;
      default:
        r.value = v;
    }
  }
}
