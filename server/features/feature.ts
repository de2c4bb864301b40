import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Container } from '../container.js';

/** The Fastify instance every plugin and feature registers on (zod schemas for routes). */
export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

/** Stops what a feature started (timers, workers); awaited before the server closes. */
export type Stop = () => Promise<void> | void;

/**
 * A plugin (server/plugins/) or a feature (server/features/): registers its routes and hooks on
 * the root instance and returns how to stop what it started, if anything. The lists in
 * server/app.ts give the order, and shutdown runs the stops in reverse.
 */
export type Feature = (app: App, c: Container) => Promise<Stop | void>;
