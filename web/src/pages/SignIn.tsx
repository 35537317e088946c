import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { KeyRound, LogIn, ShieldCheck } from 'lucide-react';
import { api } from '../api/client';
import { ApiError, unwrap } from '../api/errors';
import { useAuth } from '../auth/AuthContext';
import { Field } from '../components/Field';
import { LangThemeSwitch } from '../components/Layout';
import { useI18n, type MessageKey } from '../i18n';

interface LoginForm {
  email: string;
  password: string;
  totp: string;
}

/** Why a login failed, in words. */
export function loginError(e: unknown): MessageKey {
  if (e instanceof ApiError) {
    if (e.isNetwork) return 'error.network';
    if (e.status === 429) return 'auth.tooMany';
    if (e.code === 'invalid_credentials') return 'auth.invalid';
  }
  return 'auth.failed';
}

/**
 * Shown when the server answers 401: e-mail address and password, then
 * the TOTP code when the account has a second factor. An API key (the
 * server's bootstrap key or a named key) is the other way in.
 */
export function SignIn() {
  const { t } = useI18n();
  const { signIn, credential } = useAuth();
  const [mode, setMode] = useState<'password' | 'api-key'>(credential?.kind === 'api-key' ? 'api-key' : 'password');
  const [totpStep, setTotpStep] = useState(false);
  const [error, setError] = useState<MessageKey | null>(null);
  const login = useForm<LoginForm>({ defaultValues: { email: '', password: '', totp: '' } });
  const keyForm = useForm<{ key: string }>({ defaultValues: { key: '' } });

  const submitLogin = login.handleSubmit(async ({ email, password, totp }) => {
    setError(null);
    try {
      const r = await api.POST('/api/auth/login', {
        body: { email: email.trim(), password, totp_code: totpStep ? totp.trim() : undefined },
      });
      const answer = unwrap(r);
      signIn({ kind: 'session', token: answer.access_token });
    } catch (e) {
      if (e instanceof ApiError && e.code === 'totp_required') {
        setTotpStep(true);
        return;
      }
      if (e instanceof ApiError && Object.keys(e.fields).length > 0) {
        for (const [field, message] of Object.entries(e.fields)) {
          if (field === 'email' || field === 'password') login.setError(field, { message });
        }
        return;
      }
      setError(loginError(e));
    }
  });

  return (
    <div className="flex min-h-screen flex-col items-center justify-center px-4">
      <div className="absolute right-4 top-3">
        <LangThemeSwitch />
      </div>
      <div className="card w-full max-w-sm space-y-5 p-6">
        <div className="flex items-center gap-3">
          <span className="grid size-10 place-items-center rounded-lg bg-indigo-600 text-white">
            {totpStep ? <ShieldCheck className="size-5" aria-hidden="true" /> : <KeyRound className="size-5" aria-hidden="true" />}
          </span>
          <div>
            <h1 className="text-lg font-semibold">{t('auth.title')}</h1>
            <p className="text-sm text-slate-500 dark:text-slate-400">
              {mode === 'api-key' ? t('auth.subtitleKey') : totpStep ? t('auth.subtitleTotp') : t('auth.subtitle')}
            </p>
          </div>
        </div>
        {(error ?? credential) && (
          <p role="alert" className="rounded-lg bg-rose-50 px-3 py-2 text-sm text-rose-700 dark:bg-rose-500/10 dark:text-rose-300" data-testid="sign-in-error">
            {error ? t(error) : credential?.kind === 'session' ? t('auth.expired') : t('auth.rejected')}
          </p>
        )}
        {mode === 'password' ? (
          <form className="space-y-4" onSubmit={submitLogin} noValidate>
            <div className={totpStep ? 'hidden' : 'space-y-4'}>
              <Field label={t('auth.email')} error={login.formState.errors.email?.message}>
                <input type="email" autoComplete="username" {...login.register('email', { required: t('form.required') })} />
              </Field>
              <Field label={t('auth.password')} error={login.formState.errors.password?.message}>
                <input type="password" autoComplete="current-password" {...login.register('password', { required: t('form.required') })} />
              </Field>
            </div>
            {totpStep && (
              <Field label={t('auth.totpCode')} error={login.formState.errors.totp?.message} hint={t('auth.totpHint')}>
                <input
                  inputMode="numeric"
                  autoComplete="one-time-code"
                  autoFocus
                  {...login.register('totp', { required: t('form.required') })}
                />
              </Field>
            )}
            <button type="submit" className="btn-primary w-full" disabled={login.formState.isSubmitting}>
              <LogIn className="size-4" aria-hidden="true" />
              {t('auth.signIn')}
            </button>
            {totpStep && (
              <button
                type="button"
                className="btn-ghost w-full"
                onClick={() => {
                  setTotpStep(false);
                  setError(null);
                  login.resetField('totp');
                }}
              >
                {t('common.back')}
              </button>
            )}
          </form>
        ) : (
          <form
            className="space-y-4"
            onSubmit={keyForm.handleSubmit(({ key }) => signIn({ kind: 'api-key', secret: key.trim() }))}
          >
            <Field label={t('auth.apiKey')} error={keyForm.formState.errors.key?.message} hint={t('auth.apiKeyHint')}>
              <input type="password" autoComplete="off" {...keyForm.register('key', { required: t('form.required') })} />
            </Field>
            <button type="submit" className="btn-primary w-full">
              {t('auth.signIn')}
            </button>
          </form>
        )}
        <div className="border-t border-slate-200 pt-4 text-center dark:border-slate-800">
          <button
            type="button"
            className="text-sm text-indigo-600 hover:underline dark:text-indigo-400"
            data-testid="sign-in-mode"
            onClick={() => {
              setMode(mode === 'password' ? 'api-key' : 'password');
              setError(null);
            }}
          >
            {mode === 'password' ? t('auth.useApiKey') : t('auth.usePassword')}
          </button>
        </div>
      </div>
    </div>
  );
}
