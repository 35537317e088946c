// @vitest-environment node
// The API types are generated from the server's OpenAPI snapshot
// (docs/openapi.json). This test generates them again in memory and fails
// when the committed schema.d.ts differs: run `npm run gen:api` and commit.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import { expect, it } from 'vitest';

const body = (text: string) => text.slice(text.indexOf('export '));

it('schema.d.ts matches docs/openapi.json', async () => {
  const spec = new URL('../../../docs/openapi.json', import.meta.url);
  const generated = astToString(await openapiTS(spec, { defaultNonNullable: false }));
  const committed = readFileSync(fileURLToPath(new URL('./schema.d.ts', import.meta.url)), 'utf8');
  expect(body(committed) === body(generated), 'src/api/schema.d.ts is out of date: run `npm run gen:api`').toBe(true);
}, 30_000);
