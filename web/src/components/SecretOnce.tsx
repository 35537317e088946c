import { useState } from 'react';
import { Check, Copy } from 'lucide-react';
import { useI18n } from '../i18n';

/** A secret the server shows only once, with a button to copy it. */
export function SecretOnce({ label, secret, testId }: { label: string; secret: string; testId?: string }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(false);
  return (
    <div className="rounded-lg border border-amber-300 bg-amber-50 p-4 dark:border-amber-500/40 dark:bg-amber-500/10">
      <p className="text-sm font-medium">{label}</p>
      <p className="mt-1 text-sm text-slate-600 dark:text-slate-300">{t('secret.once')}</p>
      <div className="mt-3 flex items-center gap-2">
        <code className="min-w-0 flex-1 break-all rounded bg-white px-2 py-1.5 font-mono text-xs dark:bg-slate-950" data-testid={testId}>
          {secret}
        </code>
        <button
          type="button"
          className="btn-secondary px-2"
          aria-label={t('secret.copy')}
          title={t('secret.copy')}
          onClick={() => {
            void navigator.clipboard?.writeText(secret).then(() => setCopied(true));
          }}
        >
          {copied ? <Check className="size-4" aria-hidden="true" /> : <Copy className="size-4" aria-hidden="true" />}
        </button>
      </div>
    </div>
  );
}
