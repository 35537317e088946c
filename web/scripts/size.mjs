// The JavaScript a browser loads before the first page shows: the entry
// script of dist/index.html and the modules it preloads, gzipped. Fails
// above the budget. `--markdown` prints the table; `--write FILE` puts it,
// with the date and the machine, between the web-size markers of FILE
// (docs/BENCHMARKS.md).
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, type } from 'node:os';
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

const table = () =>
  [
    '| file | size | gzipped |',
    '|---|---:|---:|',
    ...[...js, ...styles].map((f) => `| \`${f.file}\` | ${kb(f.raw)} KB | ${kb(f.gzip)} KB |`),
    `| **initial JavaScript** (budget ${BUDGET_KB} KB) | ${kb(js.reduce((s, f) => s + f.raw, 0))} KB | **${kb(total)} KB** |`,
  ].join('\n');
const writeTo = process.argv.indexOf('--write');

if (writeTo > 0) {
  const file = process.argv[writeTo + 1];
  if (!file) throw new Error('--write needs a file');
  const [start, end] = ['<!-- web-size:start -->', '<!-- web-size:end -->'];
  const doc = readFileSync(file, 'utf8');
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${file} has no ${start} ... ${end} section`);
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const when = new Date().toISOString().slice(0, 10);
  const body = `Measured ${when} on ${type()} ${release()}, ${cpus().length} × ${cpu}, Node.js ${process.versions.node}.\n\n${table()}\n`;
  writeFileSync(file, `${doc.slice(0, from + start.length)}\n${body}${doc.slice(to)}`);
  console.log(`initial JavaScript: ${kb(total)} KB gzipped, written to ${file}`);
} else if (process.argv.includes('--markdown')) {
  console.log(table());
} else {
  for (const f of [...js, ...styles]) console.log(`${f.file}: ${kb(f.raw)} KB, ${kb(f.gzip)} KB gzipped`);
  console.log(`initial JavaScript: ${kb(total)} KB gzipped (budget ${BUDGET_KB} KB)`);
}
if (total > BUDGET_KB * 1024) {
  console.error(`initial JavaScript is over the budget of ${BUDGET_KB} KB gzipped`);
  process.exit(1);
}
