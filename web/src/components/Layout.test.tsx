import { expect, it } from 'vitest';
import { navFor } from './Layout';

it('shows the users and API keys pages to admins only', () => {
  const paths = (role?: string) => navFor(role).map((n) => n.to);
  expect(paths('admin')).toEqual(expect.arrayContaining(['/agents', '/users', '/api-keys']));
  for (const role of ['operator', 'readonly', undefined]) {
    expect(paths(role)).toContain('/agents');
    expect(paths(role)).not.toContain('/users');
    expect(paths(role)).not.toContain('/api-keys');
  }
});
