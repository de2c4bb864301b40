import { z } from 'zod';

const email = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email({ message: 'must be a valid email address' }));
export const NewPassphrase = z.string().min(10, 'must be at least 10 characters').max(1024, 'must be at most 1024 characters');
const anyPassphrase = z.string().min(1).max(1024);

export const InviteCode = z.string().trim().min(1).max(100).optional();
export const RegisterBody = z.object({ email, passphrase: NewPassphrase, inviteCode: InviteCode });
export const LoginBody = z.object({ email: z.string().trim().min(1).max(254), passphrase: anyPassphrase });
export const ChangePassphraseBody = z.object({ current: anyPassphrase, next: NewPassphrase });
export const RecoverBody = z.object({ email: z.string().trim().min(1).max(254), recoveryKey: z.string().min(1).max(200), next: NewPassphrase });
export const RotateRecoveryKeyBody = z.object({ passphrase: anyPassphrase });
