import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { notConfigured } from '../../errors.js';
import { clearSealedCookie, readSealedCookie, setSealedCookie } from '../../http/sealed-cookie.js';
import { requireSession, setSessionCookie } from '../../http/session.js';
import { GoogleFlowError, type GoogleAuthService, type GoogleFlowState, type PendingIdentity } from '../../services/google-auth.service.js';
import type { InboxService } from '../../services/inbox.service.js';
import { InviteCode, NewPassphrase, NewUserBody, Passphrase, UserBody } from '../../../contract/index.js';

// Lax: it must come back on the provider's top-level redirect to the callback.
const FLOW = { name: 'cv_oauth_google', path: '/api/auth/google', sameSite: 'lax', ttlMs: 10 * 60_000 } as const;
// Strict: only our own pages post the passphrase with it.
export const PENDING = { name: 'cv_pending', path: '/api/auth', sameSite: 'strict', ttlMs: 10 * 60_000 } as const;

const UnlockBody = z.object({ passphrase: Passphrase });

export const googleAuthRoutes =
  (deps: { google: GoogleAuthService; inbox: InboxService; config: Config }): FastifyPluginAsyncZod =>
  async (app) => {
    const { google, inbox, config } = deps;
    const limited = { rateLimit: { max: config.RATE_LIMIT_AUTH_PER_MIN, timeWindow: 60_000 } };
    const need = () => {
      if (!google.configured) throw notConfigured('Google sign-in');
    };

    app.get('/api/auth/providers', { schema: { response: { 200: z.object({ google: z.boolean() }) } } }, async () => ({ google: google.configured }));

    app.get('/api/auth/google', { config: limited }, async (_req, reply) => {
      need();
      const { url, flow } = await google.begin('signin');
      setSealedCookie(reply, config, FLOW, flow);
      return reply.redirect(url, 302);
    });

    app.get('/api/auth/google/callback', { config: limited }, async (req, reply) => {
      need();
      const flow = readSealedCookie<GoogleFlowState>(req, config, FLOW.name);
      clearSealedCookie(reply, config, FLOW);
      const failTo = flow?.mode === 'link' ? '/settings' : '/signin';
      try {
        const r = await google.complete(req.query as Record<string, unknown>, flow);
        if (flow!.mode === 'link') {
          await google.link(flow!.userId!, r.subMac, req.id, req.headers['user-agent']);
          return reply.redirect('/settings?google=linked', 302);
        }
        setSealedCookie(reply, config, PENDING, google.pending(r));
        return reply.redirect(r.userId ? '/unlock' : '/welcome', 302);
      } catch (err) {
        if (!(err instanceof GoogleFlowError)) throw err;
        req.log.warn({ code: err.code }, 'google sign-in refused');
        return reply.redirect(`${failTo}?error=${err.code}`, 302);
      }
    });

    app.post(
      '/api/auth/google/register',
      { config: limited, schema: { body: z.object({ passphrase: NewPassphrase, inviteCode: InviteCode }), response: { 201: NewUserBody } } },
      async (req, reply) => {
        need();
        const r = await google.register(readSealedCookie<PendingIdentity>(req, config, PENDING.name), req.body.passphrase, req.id, req.body.inviteCode);
        clearSealedCookie(reply, config, PENDING);
        setSessionCookie(reply, config, r.session);
        return reply.code(201).send({ user: r.user, recoveryKey: r.recoveryKey });
      },
    );

    app.post('/api/auth/unlock', { config: limited, schema: { body: UnlockBody, response: { 200: UserBody } } }, async (req, reply) => {
      need();
      const r = await google.unlock(
        readSealedCookie<PendingIdentity>(req, config, PENDING.name),
        req.body.passphrase,
        req.id,
        req.headers['user-agent'],
        req.ip,
      );
      clearSealedCookie(reply, config, PENDING);
      setSessionCookie(reply, config, r.session);
      // New data synced while the user was away shows up as soon as they are back.
      await inbox.maybeDrain(r.session.context, req.log);
      return { user: r.user };
    });

    app.get('/api/auth/google/link', { schema: { response: { 200: z.object({ configured: z.boolean(), linked: z.boolean() }) } } }, async (req) => {
      const s = requireSession(req);
      return { configured: google.configured, linked: google.configured ? await google.isLinked(s.userId) : false };
    });

    app.post('/api/auth/google/link', { config: limited, schema: { response: { 200: z.object({ url: z.string() }) } } }, async (req, reply) => {
      const s = requireSession(req);
      need();
      const { url, flow } = await google.begin('link', s.userId);
      setSealedCookie(reply, config, FLOW, flow);
      return { url };
    });

    app.delete('/api/auth/google/link', async (req, reply) => {
      const s = requireSession(req);
      need();
      await google.unlink(s, req.id, req.headers['user-agent']);
      return reply.code(204).send();
    });
  };
