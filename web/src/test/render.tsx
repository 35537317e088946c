import type { ReactNode } from 'react';
import { render } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { vi } from 'vitest';
import { AuthProvider } from '../auth/AuthContext';
import { I18nProvider } from '../i18n';
import { ThemeProvider } from '../theme/theme';

export type Route = (req: Request) => Response | Promise<Response> | undefined;

export const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

/** Replaces fetch with routes answering like the server; unknown calls are 404. */
export function mockServer(...routes: Route[]) {
  const calls: Request[] = [];
  const fetch = vi.fn(async (input: Request) => {
    calls.push(input.clone());
    for (const r of routes) {
      const res = await r(input);
      if (res) return res;
    }
    return json({ error: { code: 'not_found', message: 'no such route' } }, 404);
  });
  vi.stubGlobal('fetch', fetch);
  return { calls, fetch };
}

export const at = (method: string, path: string | RegExp, answer: (req: Request) => Response | Promise<Response>): Route => (req) => {
  const url = new URL(req.url);
  const match = typeof path === 'string' ? url.pathname === path : path.test(url.pathname);
  return req.method === method && match ? answer(req) : undefined;
};

/** Renders an element inside every provider the app has, at a URL. */
export function renderPage(element: ReactNode, { path = '/', url = path }: { path?: string; url?: string } = {}) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const router = createMemoryRouter(
    [
      { path, element },
      { path: '*', element: <div data-testid="elsewhere" /> },
    ],
    { initialEntries: [url] },
  );
  const result = render(
    <QueryClientProvider client={client}>
      <I18nProvider lang="en">
        <ThemeProvider>
          <AuthProvider>
            <RouterProvider router={router} />
          </AuthProvider>
        </ThemeProvider>
      </I18nProvider>
    </QueryClientProvider>,
  );
  return { ...result, router, client };
}
