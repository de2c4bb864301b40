import { z } from 'zod';
import { nameField } from './common.js';

/** Sign-up, sign-in, sessions, API tokens, invites and the activity log. */

export const User = z.object({ id: z.string(), email: z.string() });
export type User = z.infer<typeof User>;
export const UserBody = z.object({ user: User });
export const NewUserBody = z.object({ user: User, recoveryKey: z.string() });

/** What a domain may be typed with: any script's letters, marks and digits, hyphens, and the full stops IDNA maps to `.` (ideographic, full-width, half-width). */
const DOMAIN_CHARS = /^[\p{L}\p{M}\p{N}.\-\u3002\uFF0E\uFF61]+$/u;
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
/** An ASCII host name of two or more labels whose last is a name (so never an IP address). */
const ASCII_DOMAIN = new RegExp(`^(?:${LABEL}\\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$`);
/**
 * The local part as before (letters, digits, `_ ' + - .`, no leading, trailing or double dot),
 * with any script's letters, marks and digits as letters and digits (RFC 6531).
 */
const LOCAL_PART = /^(?!\.)(?!.*\.\.)[\p{L}\p{M}\p{N}_'+\-.]*[\p{L}\p{M}\p{N}_+-]$/u;

/** The domain in its ASCII (punycode) form, IDNA-mapped by the URL parser; null when it is not a host name. */
function asciiDomain(domain: string): string | null {
  // Only name characters reach the parser: it would read `@`, `:`, `/` or `%` as URL syntax.
  if (!DOMAIN_CHARS.test(domain)) return null;
  let host: string;
  try {
    host = new URL(`http://${domain}`).hostname;
  } catch {
    return null;
  }
  return ASCII_DOMAIN.test(host) ? host : null;
}

/**
 * The one spelling of an email address under which accounts are stored and looked up (sign-up,
 * sign-in, recovery, Google sign-up, the invite CLI): trimmed, Unicode NFC, lower case, and the
 * domain in ASCII (`münchen.de` is `xn--mnchen-3ya.de`, the form such addresses had to be typed
 * in before, so those accounts keep matching). NFC makes a composed and a decomposed `é` the same
 * address. Never throws: what is not an address comes back trimmed, NFC and lower case.
 */
export function normalizeEmail(input: string): string {
  // Lower-casing can decompose (İ becomes i + U+0307), so NFC again after it.
  const s = input.trim().normalize('NFC').toLowerCase().normalize('NFC');
  const at = s.lastIndexOf('@');
  const domain = at > 0 ? asciiDomain(s.slice(at + 1)) : null;
  return domain ? `${s.slice(0, at)}@${domain}` : s;
}

/** Whether a normalised address (see {@link normalizeEmail}) may be registered. */
export function isEmailAddress(normalized: string): boolean {
  const at = normalized.lastIndexOf('@');
  if (at < 1 || normalized.length > 254) return false;
  return LOCAL_PART.test(normalized.slice(0, at)) && ASCII_DOMAIN.test(normalized.slice(at + 1));
}

const email = z.string().trim().max(254).overwrite(normalizeEmail).refine(isEmailAddress, { message: 'must be a valid email address' });
export const NewPassphrase = z.string().min(10, 'must be at least 10 characters').max(1024, 'must be at most 1024 characters');
/** Any passphrase a person may already have: checked against the stored one, not against rules. */
export const Passphrase = z.string().min(1).max(1024);

export const InviteCode = z.string().trim().min(1).max(100).optional();
export const RegisterBody = z.object({ email, passphrase: NewPassphrase, inviteCode: InviteCode });
export const LoginBody = z.object({ email: z.string().trim().min(1).max(254), passphrase: Passphrase });
export const ChangePassphraseBody = z.object({ current: Passphrase, next: NewPassphrase });
export const RecoverBody = z.object({ email: z.string().trim().min(1).max(254), recoveryKey: z.string().min(1).max(200), next: NewPassphrase });
export const RotateRecoveryKeyBody = z.object({ passphrase: Passphrase });

export const SignupMode = z.object({ signup: z.enum(['open', 'invite', 'closed']) });

export const SessionInfo = z.object({ id: z.string(), current: z.boolean(), createdAt: z.string(), lastSeenAt: z.string(), expiresAt: z.string() });
export type SessionInfo = z.infer<typeof SessionInfo>;
export const SessionList = z.object({ sessions: z.array(SessionInfo) });

// ---- API tokens ----

export const TOKEN_SCOPES = ['read', 'write', 'chat'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];
/** The longest a personal API token may live. */
export const MAX_TOKEN_DAYS = 365;

export const CreateTokenBody = z.object({
  name: nameField(100),
  scopes: z.array(z.enum(TOKEN_SCOPES)).min(1, 'pick at least one scope').max(3),
  expiresInDays: z.number().int().min(1).max(MAX_TOKEN_DAYS).optional(),
});
/** Shown once, at creation. */
export const CreatedToken = z.object({ id: z.string(), token: z.string(), expiresAt: z.string() });
export const Token = z.object({
  id: z.string(),
  name: z.string(),
  scopes: z.array(z.enum(TOKEN_SCOPES)),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  expiresAt: z.string(),
});
export type Token = z.infer<typeof Token>;
export const TokenList = z.object({ tokens: z.array(Token) });

// ---- invites ----

export const CreateInviteBody = z.object({ days: z.number().int().min(1).max(90).optional() }).nullish();
export const CreatedInvite = z.object({ id: z.string(), code: z.string(), expiresAt: z.string() });
export const Invite = z.object({ id: z.string(), createdAt: z.string(), expiresAt: z.string(), usedAt: z.string().nullable() });
export type Invite = z.infer<typeof Invite>;
export const InviteList = z.object({ invites: z.array(Invite) });
/** `GET /api/invites/access`: whether this account manages invites (the app shows the card to admins only). */
export const InviteAccess = z.object({ admin: z.boolean() });
export type InviteAccess = z.infer<typeof InviteAccess>;

// ---- activity ----

export const ActivityQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /**
   * Opaque: as a previous page's `nextCursor` gave it. Checked by the route against
   * {@link ACTIVITY_CURSOR}, so that a malformed one is `invalid_cursor` like another user's.
   */
  cursor: z.string().optional(),
});
/** The form of an activity page cursor (base64url of 36 bytes); anything else is refused unread. */
export const ACTIVITY_CURSOR = /^[A-Za-z0-9_-]{48}$/;
export const ActivityEvent = z.object({
  action: z.string(),
  at: z.string(),
  client: z.string().optional(),
  /** Integration events: which connection (provider id, its name, the connection's id). */
  connection: z.object({ provider: z.string(), label: z.string(), id: z.string() }).optional(),
});
export type ActivityEvent = z.infer<typeof ActivityEvent>;
export const ActivityPage = z.object({ events: z.array(ActivityEvent), nextCursor: z.string().nullable() });
