import { inboxKeyMac, inboxPublicKeyOf, verifyInboxKeyMac } from '../../crypto/index.js';
import { inboxPrivateKey, type KeySource } from '../codec/index.js';
import { asBuffer } from '../db/index.js';
import type { IntegrationsRepository } from '../repositories/integrations.repository.js';

/**
 * Checks the stored inbox public key against the private key sealed under the vault key (which a
 * database writer cannot forge) and stores its MAC, so that work without a vault key (the sync
 * worker, a failed sign-in's activity entry) can check the key later. A swapped key is put back
 * and logged. Returns the owner's real public key, or null for an unknown user.
 */
export async function certifyInboxKey(
  repo: IntegrationsRepository,
  serverKey: Buffer,
  userId: string,
  keys: KeySource,
  log?: { warn(msg: string): void },
): Promise<Buffer | null> {
  const row = await repo.inboxPublicKey(userId);
  if (!row) return null;
  const privateKey = inboxPrivateKey.open(keys, { userId, id: userId, version: 1 }, asBuffer(row.inbox_private_key_wrapped));
  let expected: Buffer;
  try {
    expected = inboxPublicKeyOf(privateKey);
  } finally {
    privateKey.fill(0);
  }
  const stored = asBuffer(row.inbox_public_key);
  const mac = row.inbox_public_key_mac ? asBuffer(row.inbox_public_key_mac) : null;
  if (!stored.equals(expected)) log?.warn("inbox public key did not match the vault's private key; restored");
  if (!stored.equals(expected) || !verifyInboxKeyMac(serverKey, userId, expected, mac)) {
    await repo.certifyInboxPublicKey(userId, expected, inboxKeyMac(serverKey, userId, expected));
  }
  return expected;
}
