/**
 * Context Vault crypto: every primitive the server uses, behind one import.
 * Depends only on node:crypto, @noble/@hpke, argon2 and age-encryption; nothing else from this repository.
 */
export * from './errors.js';
export * from './aes-gcm.js';
export * from './envelope.js';
export * from './keys.js';
export * from './passphrase.js';
export * from './recovery-key.js';
export * from './session.js';
export * from './api-token.js';
export * from './stream.js';
export * from './blind-index.js';
export * from './content-mac.js';
export * from './hpke.js';
export * from './age.js';
