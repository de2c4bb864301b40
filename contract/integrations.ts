import { z } from 'zod';

export const Provider = z.enum(['epic', 'google_health']);
export type Provider = z.infer<typeof Provider>;
export const ProviderParams = z.object({ provider: Provider });
export const ConnectQuery = z.object({ endpoint: z.string().max(2048).optional() });

export const IntegrationStatus = z.enum(['connected', 'syncing', 'error', 'reauth_required']);
export type IntegrationStatus = z.infer<typeof IntegrationStatus>;

export const Integration = z.object({
  provider: z.string(),
  status: IntegrationStatus,
  endpoint: z.string().nullable(),
  lastSyncAt: z.string().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type Integration = z.infer<typeof Integration>;

/** A provider this server offers, for the Connections page. */
export const AvailableProvider = z.object({ provider: z.string(), label: z.string(), configured: z.boolean(), endpoints: z.array(z.string()) });
export type AvailableProvider = z.infer<typeof AvailableProvider>;

export const IntegrationsList = z.object({ integrations: z.array(Integration), available: z.array(AvailableProvider) });
export type IntegrationsList = z.infer<typeof IntegrationsList>;
