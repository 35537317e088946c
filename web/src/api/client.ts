import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';
import { ApiError } from './errors';

/**
 * The credential the UI sends. Today the server knows API keys only; a
 * session token from the login page will be another kind here.
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

const auth: Middleware = {
  onRequest({ request }) {
    const c = connection.credential;
    if (c) request.headers.set('Authorization', `Bearer ${c.kind === 'api-key' ? c.secret : c.token}`);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) connection.unauthorized();
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
