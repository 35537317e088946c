import { useState } from 'react';
import { KeyRound, Monitor, Moon, Sun } from 'lucide-react';
import { useAuth } from '../auth/AuthContext';
import { useHealth } from '../api/hooks';
import { PageHeader } from '../components/states';
import { LANGS, useI18n } from '../i18n';
import { useTheme } from '../theme/theme';

function Card({ title, body, children }: { title: string; body?: string; children: React.ReactNode }) {
  return (
    <section className="card p-5">
      <h2 className="text-base font-semibold">{title}</h2>
      {body && <p className="mt-1 text-sm text-slate-500 dark:text-slate-400">{body}</p>}
      <div className="mt-4">{children}</div>
    </section>
  );
}

export default function Settings() {
  const { t, lang, setLang } = useI18n();
  const { theme, setTheme } = useTheme();
  const { credential, signIn, signOut } = useAuth();
  const health = useHealth();
  const [key, setKey] = useState('');
  const [saved, setSaved] = useState(false);

  return (
    <>
      <PageHeader title={t('settings.title')} />
      <div className="grid max-w-3xl grid-cols-1 gap-4">
        <Card title={t('settings.appearance')}>
          <div className="grid gap-4 sm:grid-cols-2">
            <fieldset>
              <legend className="label">{t('settings.language')}</legend>
              <div className="flex gap-2">
                {LANGS.map((l) => (
                  <label key={l} className={`btn-secondary cursor-pointer ${lang === l ? 'ring-2 ring-indigo-500' : ''}`}>
                    <input type="radio" name="lang" className="sr-only" checked={lang === l} onChange={() => setLang(l)} />
                    {t(`lang.${l}`)}
                  </label>
                ))}
              </div>
            </fieldset>
            <fieldset>
              <legend className="label">{t('settings.theme')}</legend>
              <div className="flex gap-2">
                {(['light', 'dark'] as const).map((th) => (
                  <label key={th} className={`btn-secondary cursor-pointer ${theme === th ? 'ring-2 ring-indigo-500' : ''}`}>
                    <input type="radio" name="theme" className="sr-only" checked={theme === th} onChange={() => setTheme(th)} />
                    {th === 'light' ? <Sun className="size-4" aria-hidden="true" /> : <Moon className="size-4" aria-hidden="true" />}
                    {t(`theme.${th}`)}
                  </label>
                ))}
              </div>
            </fieldset>
          </div>
        </Card>

        <Card title={t('settings.apiKey')} body={t('settings.apiKeyBody')}>
          <form
            className="flex flex-wrap items-end gap-2"
            onSubmit={(e) => {
              e.preventDefault();
              if (key.trim()) {
                signIn({ kind: 'api-key', secret: key.trim() });
                setKey('');
                setSaved(true);
              }
            }}
          >
            <div className="min-w-[16rem] flex-1">
              <label htmlFor="settings-api-key" className="label">
                {t('auth.apiKey')}
              </label>
              <input id="settings-api-key" type="password" autoComplete="off" className="input" value={key} onChange={(e) => setKey(e.target.value)} placeholder={credential ? t('settings.apiKeySet') : t('settings.apiKeyUnset')} />
            </div>
            <button type="submit" className="btn-primary" disabled={!key.trim()}>
              <KeyRound className="size-4" aria-hidden="true" />
              {t('common.save')}
            </button>
            {credential && (
              <button type="button" className="btn-secondary" onClick={() => { signOut(); setSaved(false); }}>
                {t('settings.forgetKey')}
              </button>
            )}
          </form>
          {saved && <p className="mt-2 text-sm text-emerald-600 dark:text-emerald-400" role="status">{t('settings.saved')}</p>}
        </Card>

        <Card title={t('settings.server')}>
          <dl className="grid grid-cols-[auto_1fr] gap-x-6 gap-y-2 text-sm">
            <dt className="text-slate-500">{t('settings.version')}</dt>
            <dd>{health.data?.version ?? '—'}</dd>
            <dt className="text-slate-500">{t('settings.database')}</dt>
            <dd>{health.data ? `${health.data.database} · ${health.data.database_reachable ? t('settings.reachable') : t('settings.unreachable')}` : '—'}</dd>
            <dt className="text-slate-500">{t('settings.apiDocs')}</dt>
            <dd>
              <a className="inline-flex items-center gap-1 text-indigo-600 hover:underline dark:text-indigo-400" href="/swagger-ui/" target="_blank" rel="noreferrer">
                <Monitor className="size-3.5" aria-hidden="true" />
                {'/swagger-ui'}
              </a>
            </dd>
          </dl>
        </Card>
      </div>
    </>
  );
}
