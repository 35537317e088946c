import { lazy, Suspense } from 'react';
import { createBrowserRouter, RouterProvider } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { ApiError } from './api/errors';
import { AuthProvider, useAuth } from './auth/AuthContext';
import { Layout } from './components/Layout';
import { Loading } from './components/states';
import { I18nProvider } from './i18n';
import { ThemeProvider } from './theme/theme';
import { Dashboard } from './pages/Dashboard';
import { SignIn } from './pages/SignIn';

// Every page but the dashboard loads when first visited.
const VpsList = lazy(() => import('./pages/VpsList'));
const VpsForm = lazy(() => import('./pages/VpsForm'));
const VpsDetail = lazy(() => import('./pages/VpsDetail'));
const Providers = lazy(() => import('./pages/Providers'));
const Trash = lazy(() => import('./pages/Trash'));
const IpHistory = lazy(() => import('./pages/IpHistory'));
const Settings = lazy(() => import('./pages/Settings'));
const AuditLog = lazy(() => import('./pages/AuditLog'));
const Agents = lazy(() => import('./pages/Agents'));
const Users = lazy(() => import('./pages/Users'));
const ApiKeys = lazy(() => import('./pages/ApiKeys'));
const NotFound = lazy(() => import('./pages/NotFound'));

export function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        refetchOnWindowFocus: true,
        // No retry for answers that will not change by retrying.
        retry: (count, error) => count < 2 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
      },
    },
  });
}

const page = (el: React.ReactNode) => <Suspense fallback={<Loading />}>{el}</Suspense>;

const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { index: true, element: <Dashboard /> },
      { path: 'vps', element: page(<VpsList />) },
      { path: 'vps/new', element: page(<VpsForm />) },
      { path: 'vps/:id', element: page(<VpsDetail />) },
      { path: 'vps/:id/edit', element: page(<VpsForm />) },
      { path: 'providers', element: page(<Providers />) },
      { path: 'trash', element: page(<Trash />) },
      { path: 'ip-history', element: page(<IpHistory />) },
      { path: 'audit', element: page(<AuditLog />) },
      { path: 'agents', element: page(<Agents />) },
      { path: 'users', element: page(<Users />) },
      { path: 'api-keys', element: page(<ApiKeys />) },
      { path: 'settings', element: page(<Settings />) },
      { path: '*', element: page(<NotFound />) },
    ],
  },
]);

function Gate() {
  const { required } = useAuth();
  // The server answered 401: ask for credentials before anything else.
  if (required) return <SignIn />;
  return <RouterProvider router={router} />;
}

export function App({ client = makeQueryClient() }: { client?: QueryClient }) {
  return (
    <QueryClientProvider client={client}>
      <I18nProvider>
        <ThemeProvider>
          <AuthProvider>
            <Gate />
          </AuthProvider>
        </ThemeProvider>
      </I18nProvider>
    </QueryClientProvider>
  );
}
