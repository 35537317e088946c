import { lazy, Suspense, useState } from 'react';
import { useForm } from 'react-hook-form';
import { KeyRound, Monitor, Moon, ShieldCheck, ShieldOff, Sun } from 'lucide-react';
import { useAuth } from '../auth/AuthContext';
import { useHealth } from '../api/hooks';
import { useChangePassword, useMe, useTotpDisable, useTotpEnable, useTotpSetup } from '../api/account';
import { ApiError } from '../api/errors';
import type { TotpSetup } from '../api/types';
import { Field } from '../components/Field';
import { PageHeader } from '../components/states';
import { LANGS, useI18n } from '../i18n';
import { formatDateTime } from '../lib/format';
import { useTheme } from '../theme/theme';

const QrCode = lazy(() => import('../components/QrCode'));

function Card({ title, body, children, testId }: { title: string; body?: string; children: React.ReactNode; testId?: string }) {
  return (
    <section className="card p-5" data-testid={testId}>
      <h2 className="text-base font-semibold">{title}</h2>
      {body && <p className="mt-1 text-sm text-slate-500 dark:text-slate-400">{body}</p>}
      <div className="mt-4">{children}</div>
    </section>
  );
}

/** The server's reason for a field, or its message for the whole form. */
function fieldError(e: unknown, field: string): string | undefined {
  return e instanceof ApiError ? (e.fields[field] ?? undefined) : undefined;
}

function formError(e: unknown): string | undefined {
  if (!e) return undefined;
  if (e instanceof ApiError && Object.keys(e.fields).length > 0) return undefined;
  return e instanceof Error ? e.message : String(e);
}

function Profile() {
  const { t, locale } = useI18n();
  const me = useMe();
  const user = me.data?.user;
  return (
    <Card title={t('settings.profile')} testId="profile">
      <dl className="grid grid-cols-[auto_1fr] gap-x-6 gap-y-2 text-sm">
        <dt className="text-slate-500">{t('settings.signedInAs')}</dt>
        <dd data-testid="profile-name">{me.data?.name ?? '—'}</dd>
        <dt className="text-slate-500">{t('settings.credential')}</dt>
        <dd>{me.data ? t(`audit.actor.${me.data.kind}`) : '—'}</dd>
        <dt className="text-slate-500">{t('settings.role')}</dt>
        <dd data-testid="profile-role">{me.data ? t(`role.${me.data.role}`) : '—'}</dd>
        {user && (
          <>
            <dt className="text-slate-500">{t('settings.lastLogin')}</dt>
            <dd>{formatDateTime(user.last_login_at, locale)}</dd>
            <dt className="text-slate-500">{t('settings.totp')}</dt>
            <dd data-testid="profile-totp">{user.totp_enabled ? t('common.on') : t('common.off')}</dd>
          </>
        )}
      </dl>
    </Card>
  );
}

interface PasswordForm {
  current: string;
  next: string;
  confirm: string;
}

function ChangePassword() {
  const { t } = useI18n();
  const { signOut } = useAuth();
  const change = useChangePassword();
  const { register, handleSubmit, formState, reset } = useForm<PasswordForm>({ defaultValues: { current: '', next: '', confirm: '' } });
  const wrongCurrent = change.error instanceof ApiError && change.error.code === 'invalid_credentials';
  return (
    <Card title={t('settings.password')} body={t('settings.passwordBody')} testId="change-password">
      <form
        className="grid gap-3 sm:grid-cols-3"
        noValidate
        onSubmit={handleSubmit((v) =>
          change.mutate(
            { current_password: v.current, new_password: v.next },
            {
              onSuccess: () => {
                reset();
                // The server ended every session of the user: sign in again.
                void signOut();
              },
            },
          ),
        )}
      >
        <Field label={t('settings.currentPassword')} error={formState.errors.current?.message ?? (wrongCurrent ? t('settings.wrongPassword') : fieldError(change.error, 'current_password'))}>
          <input type="password" autoComplete="current-password" {...register('current', { required: t('form.required') })} />
        </Field>
        <Field label={t('settings.newPassword')} error={formState.errors.next?.message ?? fieldError(change.error, 'new_password')}>
          <input type="password" autoComplete="new-password" {...register('next', { required: t('form.required'), minLength: { value: 10, message: t('settings.passwordLength') } })} />
        </Field>
        <Field label={t('settings.confirmPassword')} error={formState.errors.confirm?.message}>
          <input
            type="password"
            autoComplete="new-password"
            {...register('confirm', { validate: (v, all) => v === all.next || t('settings.passwordMismatch') })}
          />
        </Field>
        <div className="sm:col-span-3">
          {!wrongCurrent && formError(change.error) && <p role="alert" className="mb-2 text-sm text-rose-600 dark:text-rose-400">{formError(change.error)}</p>}
          <button type="submit" className="btn-primary" disabled={change.isPending}>
            {t('settings.changePassword')}
          </button>
        </div>
      </form>
    </Card>
  );
}

function RecoveryCodes({ codes }: { codes: string[] }) {
  const { t } = useI18n();
  return (
    <div className="rounded-lg border border-amber-300 bg-amber-50 p-4 dark:border-amber-500/40 dark:bg-amber-500/10" data-testid="recovery-codes">
      <p className="text-sm font-medium">{t('settings.recoveryTitle')}</p>
      <p className="mt-1 text-sm text-slate-600 dark:text-slate-300">{t('settings.recoveryBody')}</p>
      <ul className="mt-3 grid grid-cols-2 gap-1 font-mono text-sm">
        {codes.map((c) => (
          <li key={c}>{c}</li>
        ))}
      </ul>
    </div>
  );
}

function TwoFactor() {
  const { t } = useI18n();
  const me = useMe();
  const setup = useTotpSetup();
  const enable = useTotpEnable();
  const disable = useTotpDisable();
  const [pending, setPending] = useState<TotpSetup | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [code, setCode] = useState('');
  const enabled = me.data?.user?.totp_enabled ?? false;
  const error = enable.error ?? disable.error ?? setup.error;
  const errorText = error ? (fieldError(error, 'code') ?? formError(error)) : undefined;

  return (
    <Card title={t('settings.totp')} body={t('settings.totpBody')} testId="totp">
      {codes && <RecoveryCodes codes={codes} />}
      {enabled ? (
        <form
          className="mt-3 flex flex-wrap items-end gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            disable.mutate(code.trim(), { onSuccess: () => { setCode(''); setCodes(null); } });
          }}
        >
          <p className="w-full text-sm text-emerald-700 dark:text-emerald-300" data-testid="totp-on">
            <ShieldCheck className="mr-1 inline size-4" aria-hidden="true" />
            {t('settings.totpOn')}
          </p>
          <Field label={t('settings.totpDisableCode')} error={errorText} className="min-w-[14rem] flex-1">
            <input inputMode="numeric" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)} />
          </Field>
          <button type="submit" className="btn-danger" disabled={!code.trim() || disable.isPending}>
            <ShieldOff className="size-4" aria-hidden="true" />
            {t('settings.totpDisable')}
          </button>
        </form>
      ) : pending ? (
        <form
          className="flex flex-col gap-4 sm:flex-row"
          onSubmit={(e) => {
            e.preventDefault();
            enable.mutate(code.trim(), {
              onSuccess: (r) => {
                setCodes(r.recovery_codes);
                setPending(null);
                setCode('');
              },
            });
          }}
        >
          <Suspense fallback={<div className="size-48 animate-pulse rounded-lg bg-slate-100 dark:bg-slate-800" />}>
            <QrCode value={pending.otpauth_uri} label={t('settings.totpQr')} />
          </Suspense>
          <div className="flex-1 space-y-3">
            <p className="text-sm text-slate-600 dark:text-slate-300">{t('settings.totpScan')}</p>
            <p className="text-sm">
              {t('settings.totpSecret')}{' '}
              <code className="break-all rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs dark:bg-slate-800" data-testid="totp-secret">
                {pending.secret}
              </code>
            </p>
            <Field label={t('settings.totpCode')} error={errorText}>
              <input inputMode="numeric" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)} />
            </Field>
            <div className="flex gap-2">
              <button type="submit" className="btn-primary" disabled={!code.trim() || enable.isPending}>
                {t('settings.totpEnable')}
              </button>
              <button type="button" className="btn-secondary" onClick={() => setPending(null)}>
                {t('common.cancel')}
              </button>
            </div>
          </div>
        </form>
      ) : (
        <div className="mt-1">
          <p className="mb-3 text-sm text-slate-500 dark:text-slate-400">{t('settings.totpOff')}</p>
          {errorText && <p role="alert" className="mb-2 text-sm text-rose-600 dark:text-rose-400">{errorText}</p>}
          <button type="button" className="btn-primary" onClick={() => setup.mutate(undefined, { onSuccess: setPending })} disabled={setup.isPending} data-testid="totp-setup">
            <ShieldCheck className="size-4" aria-hidden="true" />
            {t('settings.totpSetUp')}
          </button>
        </div>
      )}
    </Card>
  );
}

export default function Settings() {
  const { t, lang, setLang } = useI18n();
  const { theme, setTheme } = useTheme();
  const { credential, signIn, signOut } = useAuth();
  const health = useHealth();
  const me = useMe();
  const [key, setKey] = useState('');
  const [saved, setSaved] = useState(false);
  const isSession = credential?.kind === 'session' && me.data?.kind === 'user';

  return (
    <>
      <PageHeader title={t('settings.title')} />
      <div className="grid max-w-3xl grid-cols-1 gap-4">
        <Profile />
        {isSession ? (
          <>
            <ChangePassword />
            <TwoFactor />
          </>
        ) : (
          me.data?.kind !== 'anonymous' && <p className="text-sm text-slate-500 dark:text-slate-400">{t('settings.sessionOnly')}</p>
        )}

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

        {!isSession && (
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
                <button type="button" className="btn-secondary" onClick={() => { void signOut({ ask: false }); setSaved(false); }}>
                  {t('settings.forgetKey')}
                </button>
              )}
            </form>
            {saved && <p className="mt-2 text-sm text-emerald-600 dark:text-emerald-400" role="status">{t('settings.saved')}</p>}
          </Card>
        )}

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
