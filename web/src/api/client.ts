import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';
import { ApiError } from './errors';

/**
 * The credential the UI sends: an API key typed in, or the login token that
 * `POST /api/auth/login` answered for an e-mail address and password.
 */
export type Credential = { kind: 'api-key'; secret: string } | { kind: 'session'; token: string };

type Listener = () => void;

/** Shared state of the connection: credential, 401s and reachability. */
class Connection {
  credential: Credential | null = null;
  private unauthorizedListeners = new Set<Listener>();
  private reachabilityListeners = new Set<(reachable: boolean) => void>();

  onUnauthorized(l: Listener) {
    this.unauthorizedListeners.add(l);
    return () => void this.unauthorizedListeners.delete(l);
  }
  onReachability(l: (reachable: boolean) => void) {
    this.reachabilityListeners.add(l);
    return () => void this.reachabilityListeners.delete(l);
  }
  unauthorized() {
    this.unauthorizedListeners.forEach((l) => l());
  }
  reachable(yes: boolean) {
    this.reachabilityListeners.forEach((l) => l(yes));
  }
}

export const connection = new Connection();

/** Calls whose 401 means a wrong password or code, not a lost session. */
const CREDENTIAL_CHECKS = new Set(['/api/auth/login', '/api/auth/password']);

/** The Authorization header for the current credential, if any. */
export function authorizationHeader(): string | null {
  const c = connection.credential;
  return c ? `Bearer ${c.kind === 'api-key' ? c.secret : c.token}` : null;
}

const auth: Middleware = {
  onRequest({ request }) {
    const header = authorizationHeader();
    if (header) request.headers.set('Authorization', header);
    return request;
  },
  onResponse({ request, response }) {
    if (response.status === 401 && !CREDENTIAL_CHECKS.has(new URL(request.url).pathname)) connection.unauthorized();
    return response;
  },
};

/** fetch that reports whether the server answered at all. */
async function trackedFetch(input: Request): Promise<Response> {
  try {
    const response = await globalThis.fetch(input);
    connection.reachable(response.status !== 502 && response.status !== 504);
    return response;
  } catch (e) {
    connection.reachable(false);
    throw new ApiError(0, undefined, e instanceof Error ? e.message : String(e));
  }
}

export const api = createClient<paths>({
  baseUrl: typeof window === 'undefined' ? 'http://localhost' : window.location.origin,
  fetch: trackedFetch,
});
api.use(auth);
