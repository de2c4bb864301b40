import { z } from 'zod';
import { nameField } from './common.js';

/** Sign-up, sign-in, sessions, API tokens, invites and the activity log. */

export const User = z.object({ id: z.string(), email: z.string() });
export type User = z.infer<typeof User>;
export const UserBody = z.object({ user: User });
export const NewUserBody = z.object({ user: User, recoveryKey: z.string() });

const email = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email({ message: 'must be a valid email address' }));
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
