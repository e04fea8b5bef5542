// Hostile booking documents (issue 14.3): how long the reservation import takes, worst case, for
// 1 MB and 5 MB inputs built to make a scanner backtrack or walk too far. Prints numbers; asserts
// nothing. Each input goes through the reader import_reservations and `tripcal import` use
// (readReservations: MIME parts, ld+json scripts, JSON-LD walk), and the worst 5 MB one through
// the CLI process as a whole. Before the linear scan, `<script ` repeated took 44-105 s at 1 MB
// (105 s measured on a loaded 2-core machine) and grew with the square of the size (~45 min at
// 5 MB); after it, under 10 ms at either size, and no input here takes more than ~0.1 s.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readReservations } from '../dist/src/trips/reservations.js';
import { tmp } from './servers.js';

const CLI = resolve(import.meta.dirname, '../dist/tripcal.mjs');

/** `unit` repeated to exactly `size` characters. */
const fill = (unit, size) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
const half = (open, close, size) => fill(open, Math.floor(size / 2)) + fill(close, size - Math.floor(size / 2));

const HOSTILE = {
  '<script repeated': (n) => fill('<script ', n),
  'unclosed ld+json scripts': (n) => fill('<script type="application/ld+json">', n),
  'ld+json scripts with </a only': (n) => `<script type="application/ld+json">${fill('</a', n - 35)}`,
  'unclosed <script tag, no >': (n) => `<script type="application/ld+json" ${fill('a=b ', n - 40)}`,
  'deep <div> nesting': (n) => half('<div>', '</div>', n),
  'deep JSON arrays': (n) => half('[', ']', n),
  'deep JSON-LD in a script': (n) => { const inner = n - 50; return `<script type="application/ld+json">${half('[', ']', inner)}</script>`; },
  'many MIME boundaries': (n) => `Content-Type: multipart/mixed; boundary=b\n${fill('boundary=x\n--x\n', n - 42)}`,
  'quoted-printable = runs': (n) => `Content-Transfer-Encoding: quoted-printable\n\n${fill('=', n - 50)}`,
};

function time(text) {
  const t0 = performance.now();
  let outcome;
  try {
    const { found, skipped } = readReservations(text);
    outcome = `${found.length} found, ${skipped.length} skipped`;
  } catch (error) {
    outcome = `refused: ${error.message.slice(0, 60)}`;
  }
  return { ms: +(performance.now() - t0).toFixed(1), outcome };
}

export function importBench() {
  const result = {};
  for (const size of [1_000_000, 5_000_000]) {
    const label = `${size / 1_000_000}MB`;
    let worst = { ms: -1 };
    for (const [name, make] of Object.entries(HOSTILE)) {
      const r = time(make(size));
      result[`${label} ${name} ms`] = r.ms;
      if (r.ms > worst.ms) worst = { ...r, name };
    }
    result[`${label} worst`] = `${worst.name}: ${worst.ms} ms (${worst.outcome})`;
  }
  // The whole CLI process on the 5 MB `<script ` file: start-up, reading, answering.
  const dir = tmp();
  const file = join(dir, 'hostile.html');
  writeFileSync(file, HOSTILE['<script repeated'](5_000_000));
  const t0 = performance.now();
  const cli = spawnSync(process.execPath, [CLI, 'import', file], { env: { ...process.env, TRIPCAL_DATA_DIR: join(dir, 'data'), TRIPCAL_LOG_LEVEL: 'warn' }, encoding: 'utf8' });
  result['5MB <script repeated, tripcal import process ms'] = +(performance.now() - t0).toFixed(1);
  result['5MB tripcal import says'] = (cli.stdout.trim().split('\n').pop() ?? '').slice(0, 100);
  return result;
}
