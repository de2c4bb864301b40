import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { notFound } from '../../errors.js';
import { clearSessionCookie, requireSession, setSessionCookie } from '../../http/session.js';
import type { AuthService } from '../../services/auth.service.js';
import {
  ChangePassphraseBody,
  IdParams,
  LoginBody,
  NewUserBody,
  RecoverBody,
  RegisterBody,
  RotateRecoveryKeyBody,
  SessionList,
  SignupMode,
  UserBody,
} from '../../../contract/index.js';

export const authRoutes =
  (deps: { auth: AuthService; config: Config }): FastifyPluginAsyncZod =>
  async (app) => {
    const { auth, config } = deps;
    const limited = { rateLimit: { max: config.RATE_LIMIT_AUTH_PER_MIN, timeWindow: 60_000 } };

    app.post('/api/auth/register', { config: limited, schema: { body: RegisterBody, response: { 201: NewUserBody } } }, async (req, reply) => {
      const r = await auth.register(req.body.email, req.body.passphrase, req.id, req.body.inviteCode, req.headers['user-agent']);
      setSessionCookie(reply, config, r.session);
      return reply.code(201).send({ user: r.user, recoveryKey: r.recoveryKey });
    });

    // The sign-up page asks which form to show (an invite field, or a closed notice).
    app.get('/api/auth/signup', { schema: { response: { 200: SignupMode } } }, async () => ({ signup: config.SIGNUP }));

    app.post('/api/auth/login', { config: limited, schema: { body: LoginBody, response: { 200: UserBody } } }, async (req, reply) => {
      const r = await auth.login(req.body.email, req.body.passphrase, req.id, req.headers['user-agent'], req.ip);
      setSessionCookie(reply, config, r.session);
      return { user: r.user };
    });

    app.post('/api/auth/logout', async (req, reply) => {
      if (req.session) await auth.logout(req.session, req.id);
      clearSessionCookie(reply, config);
      return reply.code(204).send();
    });

    app.get('/api/auth/me', { schema: { response: { 200: UserBody } } }, async (req) => {
      const s = requireSession(req);
      return { user: { id: s.userId, email: s.email } };
    });

    app.post('/api/auth/passphrase', { config: limited, schema: { body: ChangePassphraseBody } }, async (req, reply) => {
      await auth.changePassphrase(requireSession(req), req.body.current, req.body.next, req.id, req.headers['user-agent']);
      return reply.code(204).send();
    });

    app.post('/api/auth/recover', { config: limited, schema: { body: RecoverBody, response: { 200: UserBody } } }, async (req, reply) => {
      const r = await auth.recover(req.body.email, req.body.recoveryKey, req.body.next, req.id, req.headers['user-agent'], req.ip);
      setSessionCookie(reply, config, r.session);
      return { user: r.user };
    });

    app.post(
      '/api/auth/recovery-key',
      { config: limited, schema: { body: RotateRecoveryKeyBody, response: { 200: z.object({ recoveryKey: z.string() }) } } },
      async (req) => ({ recoveryKey: await auth.rotateRecoveryKey(requireSession(req), req.body.passphrase, req.id, req.headers['user-agent']) }),
    );

    app.get('/api/auth/sessions', { schema: { response: { 200: SessionList } } }, async (req) => {
      const s = requireSession(req);
      const rows = await auth.listSessions(s);
      return {
        sessions: rows.map((r) => ({
          id: r.id,
          current: r.id === s.sessionId,
          createdAt: r.created_at.toISOString(),
          lastSeenAt: r.last_seen_at.toISOString(),
          expiresAt: new Date(r.expires_at).toISOString(),
        })),
      };
    });

    app.delete('/api/auth/sessions/:id', { schema: { params: IdParams } }, async (req, reply) => {
      if (!(await auth.revokeSession(requireSession(req), req.params.id, req.id))) throw notFound('Session');
      return reply.code(204).send();
    });

    // Registered before `/api/auth/sessions/:id` matters not (POST vs DELETE), but kept apart for clarity.
    app.post('/api/auth/sessions/revoke-others', { schema: { response: { 200: z.object({ revoked: z.number().int() }) } } }, async (req) => ({
      revoked: await auth.revokeOtherSessions(requireSession(req), req.id),
    }));
  };
