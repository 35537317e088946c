import { useState, type KeyboardEvent } from 'react';
import { X } from 'lucide-react';
import { useI18n } from '../i18n';

/** Tags as chips: Enter or comma adds, Backspace on an empty input removes the last. */
export function TagsInput({
  id,
  value,
  onChange,
  placeholder,
  'aria-invalid': invalid,
  'aria-describedby': describedBy,
}: {
  id?: string;
  value: string[];
  onChange: (tags: string[]) => void;
  placeholder?: string;
  'aria-invalid'?: boolean;
  'aria-describedby'?: string;
  className?: string;
}) {
  const { t } = useI18n();
  const [draft, setDraft] = useState('');
  const add = (raw: string) => {
    const tags = raw
      .split(/[,\s]+/)
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
    const next = [...value];
    for (const tag of tags) if (!next.includes(tag)) next.push(tag);
    if (next.length !== value.length) onChange(next);
    setDraft('');
  };
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter' || e.key === ',') {
      e.preventDefault();
      if (draft.trim()) add(draft);
    } else if (e.key === 'Backspace' && draft === '' && value.length > 0) {
      onChange(value.slice(0, -1));
    }
  };
  return (
    <div
      className={`input flex min-h-[2.5rem] flex-wrap items-center gap-1.5 py-1.5 ${invalid ? 'input-error' : ''}`}
      data-testid="tags-input"
    >
      {value.map((tag) => (
        <span key={tag} className="inline-flex items-center gap-1 rounded-md bg-indigo-50 px-2 py-0.5 text-xs font-medium text-indigo-700 dark:bg-indigo-500/15 dark:text-indigo-300">
          {tag}
          <button
            type="button"
            className="rounded hover:text-indigo-900 dark:hover:text-white"
            onClick={() => onChange(value.filter((x) => x !== tag))}
            aria-label={t('tags.remove', { tag })}
          >
            <X className="size-3" aria-hidden="true" />
          </button>
        </span>
      ))}
      <input
        id={id}
        className="min-w-[8rem] flex-1 border-0 bg-transparent p-0.5 text-sm outline-none focus:ring-0"
        value={draft}
        placeholder={value.length === 0 ? placeholder : undefined}
        onChange={(e) => setDraft(e.target.value)}
        onKeyDown={onKeyDown}
        onBlur={() => draft.trim() && add(draft)}
        aria-invalid={invalid || undefined}
        aria-describedby={describedBy}
      />
    </div>
  );
}
