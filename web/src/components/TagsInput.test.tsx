import { useState } from 'react';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { expect, it } from 'vitest';
import { I18nProvider } from '../i18n';
import { TagsInput } from './TagsInput';

function Harness({ initial = [] as string[] }) {
  const [tags, setTags] = useState(initial);
  return (
    <I18nProvider lang="en">
      <label htmlFor="t">Tags</label>
      <TagsInput id="t" value={tags} onChange={setTags} />
      <output>{tags.join('|')}</output>
    </I18nProvider>
  );
}

it('adds tags on Enter and comma, lower-cased and without duplicates, and removes them', async () => {
  const user = userEvent.setup();
  render(<Harness initial={['iplc']} />);
  const input = screen.getByLabelText('Tags');
  await user.type(input, 'CN2{Enter}iplc,gia,');
  expect(screen.getByRole('status').textContent).toBe('iplc|cn2|gia');
  await user.click(screen.getByRole('button', { name: 'Remove tag cn2' }));
  expect(screen.getByRole('status').textContent).toBe('iplc|gia');
  await user.type(input, '{Backspace}');
  expect(screen.getByRole('status').textContent).toBe('iplc');
});
