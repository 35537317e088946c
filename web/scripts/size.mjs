// The JavaScript a browser loads before the first page shows: the entry
// script of dist/index.html and the modules it preloads, gzipped. Fails
// above the budget. `--markdown` prints a table for docs/BENCHMARKS.md.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const BUDGET_KB = 250;
const dist = new URL('../dist/', import.meta.url).pathname;
const html = readFileSync(`${dist}index.html`, 'utf8');
const scripts = [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="\/([^"]+\.js)"/g)].map((m) => m[1]);
const css = [...html.matchAll(/<link[^>]*rel="stylesheet"[^>]*\shref="\/([^"]+\.css)"/g)].map((m) => m[1]);

const measure = (file) => {
  const raw = readFileSync(dist + file);
  return { file, raw: raw.length, gzip: gzipSync(raw, { level: 9 }).length };
};
const js = scripts.map(measure);
const styles = css.map(measure);
const kb = (n) => (n / 1024).toFixed(1);
const total = js.reduce((s, f) => s + f.gzip, 0);

if (process.argv.includes('--markdown')) {
  console.log('| file | size | gzipped |\n|---|---:|---:|');
  for (const f of [...js, ...styles]) console.log(`| \`${f.file}\` | ${kb(f.raw)} KB | ${kb(f.gzip)} KB |`);
  console.log(`| **initial JavaScript** | ${kb(js.reduce((s, f) => s + f.raw, 0))} KB | **${kb(total)} KB** |`);
} else {
  for (const f of [...js, ...styles]) console.log(`${f.file}: ${kb(f.raw)} KB, ${kb(f.gzip)} KB gzipped`);
  console.log(`initial JavaScript: ${kb(total)} KB gzipped (budget ${BUDGET_KB} KB)`);
}
if (total > BUDGET_KB * 1024) {
  console.error(`initial JavaScript is over the budget of ${BUDGET_KB} KB gzipped`);
  process.exit(1);
}
