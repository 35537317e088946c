import { ArrowDown, ArrowUp, ArrowUpDown } from 'lucide-react';
import type { SortOrder, VpsSort } from '../api/types';

export function SortHeader({
  label,
  field,
  sort,
  order,
  onSort,
  className = '',
}: {
  label: string;
  field: VpsSort;
  sort: VpsSort;
  order: SortOrder;
  onSort: (field: VpsSort, order: SortOrder) => void;
  className?: string;
}) {
  const active = sort === field;
  const Icon = !active ? ArrowUpDown : order === 'asc' ? ArrowUp : ArrowDown;
  return (
    <th scope="col" className={`px-3 py-2.5 ${className}`} aria-sort={active ? (order === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button
        type="button"
        className="inline-flex items-center gap-1 rounded font-medium hover:text-slate-900 dark:hover:text-white"
        onClick={() => onSort(field, active && order === 'asc' ? 'desc' : 'asc')}
        data-testid={`sort-${field}`}
      >
        {label}
        <Icon className={`size-3.5 ${active ? '' : 'opacity-40'}`} aria-hidden="true" />
      </button>
    </th>
  );
}
