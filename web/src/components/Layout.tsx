import { useState, type ComponentType } from 'react';
import { NavLink, Outlet } from 'react-router';
import { Building2, Globe, History, KeySquare, LayoutDashboard, LogOut, Menu, Moon, Radio, Search, Server, Settings, Sun, Trash2, Users, X } from 'lucide-react';
import { useMe } from '../api/account';
import type { paths } from '../api/types';
import { useAuth } from '../auth/AuthContext';
import { useI18n, type MessageKey } from '../i18n';
import { useTheme } from '../theme/theme';
import { ConnectionBanner } from './ConnectionBanner';
import { useFleetEvents } from '../api/events';

interface NavItem {
  to: string;
  label: MessageKey;
  icon: ComponentType<{ className?: string }>;
  /** The API the page needs, checked against the generated schema. */
  api: keyof paths;
  /** Shown to admins only (the server refuses the others anyway). */
  admin?: boolean;
}

const NAV: NavItem[] = [
  { to: '/', label: 'nav.dashboard', icon: LayoutDashboard, api: '/api/stats' },
  { to: '/vps', label: 'nav.vps', icon: Server, api: '/api/vps' },
  { to: '/providers', label: 'nav.providers', icon: Building2, api: '/api/providers' },
  { to: '/ip-history', label: 'nav.ipHistory', icon: Search, api: '/api/ip-history' },
  { to: '/trash', label: 'nav.trash', icon: Trash2, api: '/api/vps/{id}/restore' },
  { to: '/agents', label: 'nav.agents', icon: Radio, api: '/api/agents' },
  { to: '/audit', label: 'nav.audit', icon: History, api: '/api/audit-logs' },
  { to: '/users', label: 'nav.users', icon: Users, api: '/api/users', admin: true },
  { to: '/api-keys', label: 'nav.apiKeys', icon: KeySquare, api: '/api/api-keys', admin: true },
];

/** The navigation entries for a role; admin pages wait until the role is known. */
export function navFor(role: string | undefined): NavItem[] {
  return NAV.filter((item) => !item.admin || role === 'admin');
}

function Brand() {
  const { t } = useI18n();
  return (
    <div className="flex items-center gap-2.5 px-2">
      <span className="grid size-8 place-items-center rounded-lg bg-indigo-600 font-serif text-lg text-white" aria-hidden="true">
        {'Σ'}
      </span>
      <span className="text-lg font-semibold tracking-tight">{t('app.name')}</span>
    </div>
  );
}

function NavLinks({ onNavigate }: { onNavigate?: () => void }) {
  const { t } = useI18n();
  const me = useMe();
  const link = ({ isActive }: { isActive: boolean }) =>
    `flex items-center gap-3 rounded-lg px-3 py-2 text-sm font-medium transition-colors ${
      isActive
        ? 'bg-indigo-50 text-indigo-700 dark:bg-indigo-500/15 dark:text-indigo-300'
        : 'text-slate-600 hover:bg-slate-100 hover:text-slate-900 dark:text-slate-400 dark:hover:bg-slate-800 dark:hover:text-slate-100'
    }`;
  return (
    <ul className="space-y-1">
      {navFor(me.data?.role).map(({ to, label, icon: Icon }) => (
        <li key={to}>
          <NavLink to={to} end={to === '/'} className={link} onClick={onNavigate}>
            <Icon className="size-4.5 shrink-0" aria-hidden="true" />
            {t(label)}
          </NavLink>
        </li>
      ))}
      <li className="pt-3">
        <NavLink to="/settings" className={link} onClick={onNavigate}>
          <Settings className="size-4.5 shrink-0" aria-hidden="true" />
          {t('nav.settings')}
        </NavLink>
      </li>
    </ul>
  );
}

export function LangThemeSwitch() {
  const { t, lang, setLang } = useI18n();
  const { theme, toggle } = useTheme();
  return (
    <div className="flex items-center gap-1">
      <button
        type="button"
        className="btn-ghost px-2"
        onClick={() => setLang(lang === 'en' ? 'zh' : 'en')}
        aria-label={t('settings.language')}
        title={t('settings.language')}
        data-testid="lang-toggle"
      >
        <Globe className="size-4" aria-hidden="true" />
        <span className="text-xs">{lang === 'en' ? t('lang.zh') : t('lang.en')}</span>
      </button>
      <button
        type="button"
        className="btn-ghost px-2"
        onClick={toggle}
        aria-label={theme === 'dark' ? t('theme.light') : t('theme.dark')}
        title={theme === 'dark' ? t('theme.light') : t('theme.dark')}
        data-testid="theme-toggle"
      >
        {theme === 'dark' ? <Sun className="size-4" aria-hidden="true" /> : <Moon className="size-4" aria-hidden="true" />}
      </button>
    </div>
  );
}

export function Layout() {
  const { t } = useI18n();
  const { credential, signOut } = useAuth();
  const me = useMe();
  const [menuOpen, setMenuOpen] = useState(false);
  useFleetEvents();

  return (
    <div className="min-h-screen">
      <a href="#main" className="sr-only focus:not-sr-only focus:fixed focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 dark:focus:bg-slate-900">
        {t('nav.skip')}
      </a>
      <aside className="fixed inset-y-0 left-0 hidden w-60 flex-col border-r border-slate-200 bg-white px-3 py-5 lg:flex dark:border-slate-800 dark:bg-slate-900">
        <Brand />
        <nav className="mt-8 flex-1" aria-label={t('nav.main')}>
          <NavLinks />
        </nav>
        {me.data && me.data.kind !== 'anonymous' && (
          <p className="truncate px-3 pb-1 text-xs text-slate-500 dark:text-slate-400" data-testid="signed-in-as" title={me.data.name}>
            {me.data.name} · {t(`role.${me.data.role}`)}
          </p>
        )}
        {credential && (
          <button type="button" className="btn-ghost justify-start" onClick={() => void signOut()} data-testid="sign-out">
            <LogOut className="size-4" aria-hidden="true" />
            {t('auth.signOut')}
          </button>
        )}
      </aside>

      {menuOpen && (
        <div className="fixed inset-0 z-40 lg:hidden">
          <div className="absolute inset-0 bg-slate-950/50" onClick={() => setMenuOpen(false)} aria-hidden="true" />
          <nav className="absolute inset-y-0 left-0 w-64 bg-white px-3 py-5 shadow-xl dark:bg-slate-900" aria-label={t('nav.main')}>
            <div className="mb-6 flex items-center justify-between">
              <Brand />
              <button type="button" className="btn-ghost p-1.5" onClick={() => setMenuOpen(false)} aria-label={t('common.close')}>
                <X className="size-5" aria-hidden="true" />
              </button>
            </div>
            <NavLinks onNavigate={() => setMenuOpen(false)} />
            {credential && (
              <button type="button" className="btn-ghost mt-4 w-full justify-start" onClick={() => void signOut()}>
                <LogOut className="size-4" aria-hidden="true" />
                {t('auth.signOut')}
              </button>
            )}
          </nav>
        </div>
      )}

      <div className="lg:pl-60">
        <ConnectionBanner />
        <header className="sticky top-0 z-30 flex h-14 items-center justify-between gap-3 border-b border-slate-200 bg-white/80 px-4 backdrop-blur lg:px-8 dark:border-slate-800 dark:bg-slate-950/80">
          <div className="flex items-center gap-2 lg:hidden">
            <button type="button" className="btn-ghost p-1.5" onClick={() => setMenuOpen(true)} aria-label={t('nav.open')} aria-expanded={menuOpen}>
              <Menu className="size-5" aria-hidden="true" />
            </button>
            <Brand />
          </div>
          <div className="hidden lg:block" />
          <LangThemeSwitch />
        </header>
        <main id="main" className="mx-auto max-w-7xl px-4 py-6 lg:px-8">
          <Outlet />
        </main>
      </div>
    </div>
  );
}
