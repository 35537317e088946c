import { Link } from 'react-router';
import { EmptyState } from '../components/states';
import { useI18n } from '../i18n';

export default function NotFound() {
  const { t } = useI18n();
  return (
    <EmptyState
      title={t('notFound.title')}
      body={t('notFound.body')}
      action={
        <Link className="btn-primary" to="/">
          {t('nav.dashboard')}
        </Link>
      }
    />
  );
}
