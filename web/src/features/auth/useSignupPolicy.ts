import { useEffect, useState } from 'react';
import { api } from '../../api/client';

export type SignupPolicy = 'open' | 'invite' | 'closed';

/** The server's SIGNUP setting; 'open' until known (the server refuses anyway if it is not). */
export function useSignupPolicy(): SignupPolicy {
  const [policy, setPolicy] = useState<SignupPolicy>('open');
  useEffect(() => {
    let live = true;
    api
      .get<{ signup: SignupPolicy }>('/api/auth/signup', { quiet401: true })
      .then((r) => live && setPolicy(r.signup))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);
  return policy;
}
