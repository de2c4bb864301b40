import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import type { Feature } from '../features/feature.js';
import { sessionCookieName } from '../http/session.js';

/** The OpenAPI document of the routes registered after it, and Swagger UI at /docs. */
export const openApi: Feature = async (app, c) => {
  await app.register(swagger, {
    openapi: {
      info: { title: 'Context Vault API', version: '1' },
      components: {
        securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: sessionCookieName(c.config) }, apiToken: { type: 'http', scheme: 'bearer' } },
      },
    },
    transform: jsonSchemaTransform,
  });
  // Swagger UI's page loads only its own scripts and styles from /docs/static, which the app's
  // CSP (script-src 'self') already allows; the validator badge would call out, so it is off.
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { validatorUrl: null }, staticCSP: false });
};
