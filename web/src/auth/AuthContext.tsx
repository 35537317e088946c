import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api, connection, type Credential } from '../api/client';

const STORAGE_KEY = 'sigma.credential';

interface Auth {
  credential: Credential | null;
  /** The server answered 401: the UI asks for credentials. */
  required: boolean;
  signIn: (c: Credential) => void;
  /** Forgets the credential (ending the session on the server when it is
   *  a login token) and, unless `ask` is false, shows the sign-in page. */
  signOut: (opts?: { ask?: boolean }) => Promise<void>;
}

const Ctx = createContext<Auth | null>(null);

function load(): Credential | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const c = JSON.parse(raw) as Credential;
    return c.kind === 'api-key' || c.kind === 'session' ? c : null;
  } catch {
    return null;
  }
}

/**
 * Holds the credential the UI sends: the login token of the sign-in page
 * (password, then TOTP when the account has it), or an API key.
 */
export function AuthProvider({ children }: { children: ReactNode }) {
  const qc = useQueryClient();
  const [credential, setCredential] = useState<Credential | null>(() => {
    const c = load();
    connection.credential = c;
    return c;
  });
  const [required, setRequired] = useState(false);

  useEffect(() => connection.onUnauthorized(() => setRequired(true)), []);

  const signIn = useCallback(
    (c: Credential) => {
      connection.credential = c;
      localStorage.setItem(STORAGE_KEY, JSON.stringify(c));
      setCredential(c);
      setRequired(false);
      void qc.invalidateQueries();
    },
    [qc],
  );
  const signOut = useCallback(
    async ({ ask = true }: { ask?: boolean } = {}) => {
      if (connection.credential?.kind === 'session') {
        // Ends every login token of the user on the server; a failure (an
        // expired token, a lost connection) must not keep the user signed in here.
        await api.POST('/api/auth/logout').catch(() => undefined);
      }
      connection.credential = null;
      localStorage.removeItem(STORAGE_KEY);
      setCredential(null);
      setRequired(ask);
      qc.clear();
    },
    [qc],
  );

  const value = useMemo(() => ({ credential, required, signIn, signOut }), [credential, required, signIn, signOut]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useAuth(): Auth {
  const v = useContext(Ctx);
  if (!v) throw new Error('useAuth outside AuthProvider');
  return v;
}
