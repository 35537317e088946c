import { useForm } from 'react-hook-form';
import { KeyRound } from 'lucide-react';
import { useAuth } from '../auth/AuthContext';
import { Field } from '../components/Field';
import { LangThemeSwitch } from '../components/Layout';
import { useI18n } from '../i18n';

/**
 * Asked for when the server answers 401. The server knows API keys today;
 * the user name, password and TOTP steps join this page when it has users.
 */
export function SignIn() {
  const { t } = useI18n();
  const { signIn, credential } = useAuth();
  const { register, handleSubmit, formState } = useForm<{ key: string }>({ defaultValues: { key: '' } });
  return (
    <div className="flex min-h-screen flex-col items-center justify-center px-4">
      <div className="absolute right-4 top-3">
        <LangThemeSwitch />
      </div>
      <form
        className="card w-full max-w-sm space-y-5 p-6"
        onSubmit={handleSubmit(({ key }) => signIn({ kind: 'api-key', secret: key.trim() }))}
      >
        <div className="flex items-center gap-3">
          <span className="grid size-10 place-items-center rounded-lg bg-indigo-600 text-white">
            <KeyRound className="size-5" aria-hidden="true" />
          </span>
          <div>
            <h1 className="text-lg font-semibold">{t('auth.title')}</h1>
            <p className="text-sm text-slate-500 dark:text-slate-400">{t('auth.subtitle')}</p>
          </div>
        </div>
        {credential && (
          <p role="alert" className="rounded-lg bg-rose-50 px-3 py-2 text-sm text-rose-700 dark:bg-rose-500/10 dark:text-rose-300">
            {t('auth.rejected')}
          </p>
        )}
        <Field label={t('auth.apiKey')} error={formState.errors.key?.message} hint={t('auth.apiKeyHint')}>
          <input type="password" autoComplete="current-password" {...register('key', { required: t('form.required') })} />
        </Field>
        <button type="submit" className="btn-primary w-full">
          {t('auth.signIn')}
        </button>
      </form>
    </div>
  );
}
