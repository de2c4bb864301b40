export interface Strength {
  /** 0 very weak … 4 strong */
  score: 0 | 1 | 2 | 3 | 4;
  label: 'Very weak' | 'Weak' | 'Fair' | 'Good' | 'Strong';
  /** Rough guessing entropy in bits, after penalties. */
  bits: number;
  hints: string[];
  /** Meets the server's minimum and is not trivially guessable. */
  acceptable: boolean;
}

/** The server's minimum (contract/account.ts `NewPassphrase`), in characters as {@link charCount} counts. */
export const MIN_LENGTH = 10;

/**
 * A passphrase's length as the server counts it: characters (code points), as zod's string
 * `min`/`max` do, not UTF-16 units (`length`, which counts an emoji twice). The contract is
 * imported as types only, so the count is repeated here rather than shared.
 */
export const charCount = (s: string): number => [...s].length;

const COMMON = [
  'password',
  'passphrase',
  'qwerty',
  'azerty',
  'letmein',
  'welcome',
  'iloveyou',
  'admin',
  'monkey',
  'dragon',
  'football',
  'baseball',
  'sunshine',
  'princess',
  'master',
  'shadow',
  'superman',
  'trustno1',
  'abc123',
  '123456',
  '12345678',
  '111111',
  '000000',
  'secret',
  'changeme',
  'contextvault',
  'vault',
];

const SEQUENCES = ['abcdefghijklmnopqrstuvwxyz', 'qwertyuiopasdfghjklzxcvbnm', '01234567890'];

function charsetSize(p: string): number {
  let n = 0;
  if (/[a-z]/.test(p)) n += 26;
  if (/[A-Z]/.test(p)) n += 26;
  if (/[0-9]/.test(p)) n += 10;
  if (/[^a-zA-Z0-9\s]/.test(p)) n += 33;
  if (/\s/.test(p)) n += 1;
  // eslint-disable-next-line no-control-regex -- any non-ASCII character
  if (/[^\x00-\x7f]/.test(p)) n += 100;
  return Math.max(n, 1);
}

/**
 * A small, dependency-free estimate (zxcvbn is 400 KB): character-set entropy with penalties for
 * repeats, keyboard/alphabet runs, common passwords and the email address, and credit for
 * several separate words, which is what we recommend.
 */
export function estimateStrength(passphrase: string, email = ''): Strength {
  const p = passphrase;
  const hints: string[] = [];
  if (!p)
    return {
      score: 0,
      label: 'Very weak',
      bits: 0,
      hints: [`Use at least ${MIN_LENGTH} characters — four or more unrelated words work well.`],
      acceptable: false,
    };

  // Collapse repeats ("aaaa" counts as a little more than "a").
  const collapsed = p.replace(/(.)\1{2,}/gu, '$1$1');
  const length = charCount(p);
  let effectiveLength = charCount(collapsed);
  if (collapsed.length < p.length) hints.push('Avoid repeated characters.');

  const lower = p.toLowerCase();
  let longestRun = 0;
  for (const fwd of SEQUENCES) {
    for (const seq of [fwd, [...fwd].reverse().join('')]) {
      for (let i = 0; i < seq.length; i++) {
        let len = 4;
        while (i + len <= seq.length && lower.includes(seq.slice(i, i + len))) len++;
        longestRun = Math.max(longestRun, len - 1 >= 4 ? len - 1 : 0);
      }
    }
  }
  if (longestRun >= 4) {
    effectiveLength -= longestRun - 2;
    hints.push('Avoid keyboard or alphabet sequences.');
  }

  let bits = Math.max(0, effectiveLength) * Math.log2(charsetSize(p));

  const common = COMMON.filter((w) => lower.includes(w));
  if (common.length) {
    const removed = common.reduce((a, w) => a + w.length, 0);
    bits -= removed * Math.log2(charsetSize(p)) - 10 * common.length;
    hints.push('Avoid common passwords and words like “password”.');
  }
  const local = email.split('@')[0]?.toLowerCase() ?? '';
  if (local.length >= 3 && lower.includes(local)) {
    bits -= local.length * 3;
    hints.push('Do not include your email address.');
  }

  const words = p.split(/[\s\-_.,;:+]+/).filter((w) => w.length >= 3);
  if (words.length >= 4) bits = Math.max(bits, words.length * 13);
  bits = Math.max(0, Math.round(bits));

  if (length < MIN_LENGTH) hints.unshift(`Use at least ${MIN_LENGTH} characters (${MIN_LENGTH - length} more).`);
  else if (bits < 60 && words.length < 4) hints.push('Longer is stronger: try four or more unrelated words.');

  let score: Strength['score'] = bits < 28 ? 0 : bits < 40 ? 1 : bits < 60 ? 2 : bits < 80 ? 3 : 4;
  if (length < MIN_LENGTH && score > 1) score = 1;
  const label = (['Very weak', 'Weak', 'Fair', 'Good', 'Strong'] as const)[score];
  return { score, label, bits, hints: [...new Set(hints)], acceptable: length >= MIN_LENGTH && score >= 2 };
}
