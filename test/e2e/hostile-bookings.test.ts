// Booking documents built to hurt (issue 14.3, 14.11, 14.12): a 1 MB `<script ` run that once
// froze the server for 44 s, thousands of reservations that were once cut at 1,999 without a
// word, JSON-LD nested 9,000 deep that once overflowed the stack. Through the real MCP client
// over stdio and the CLI process: each is answered (a result, or an error naming the field and
// the limit), nothing is half-imported, and the server keeps answering. Times are printed by
// `npm run bench -- hostile`, not asserted here beyond the test timeout.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CLI, connect, structured, tempDir, type Connected } from '../support/mcp.js';

function tripcal(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, TRIPCAL_LOG_LEVEL: 'warn', ...env }, timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const textOf = (result: { content?: unknown }) => (result.content as Array<{ text: string }>).map((c) => c.text).join('\n');

/** Flight `i` of a schema.org FlightReservation list, one day apart, each its own booking. */
const flight = (i: number) => ({
  '@context': 'http://schema.org', '@type': 'FlightReservation', reservationNumber: `R${String(i).padStart(5, '0')}`,
  reservationFor: {
    '@type': 'Flight', flightNumber: String(100 + i), airline: { '@type': 'Airline', name: 'United', iataCode: 'UA' },
    departureAirport: { '@type': 'Airport', iataCode: 'SFO' }, arrivalAirport: { '@type': 'Airport', iataCode: 'JFK' },
    departureTime: new Date(Date.UTC(2027, 0, 1, 16) + i * 86_400_000).toISOString(),
    arrivalTime: new Date(Date.UTC(2027, 0, 1, 21) + i * 86_400_000).toISOString(),
  },
});

/** A reservation with `depth` levels of arrays inside it, as an HTML page's ld+json block. */
const deepBooking = (depth: number) => {
  const json = JSON.stringify(flight(0)).replace(/}$/, `,"extra":${'['.repeat(depth)}${']'.repeat(depth)}}`);
  return `<html><script type="application/ld+json">${json}</script></html>`;
};

let server: Connected;
beforeAll(async () => {
  server = await connect({ dataDir: tempDir(), env: { TRIPCAL_LOG_LEVEL: 'warn' } });
});
afterAll(async () => {
  await server?.close();
});

test('import_reservations with 1 MB of `<script ` is answered, and the server still answers after it', async () => {
  const result = structured(await server.call('import_reservations', { content: '<script '.repeat(125_000) }));
  expect(result.created).toEqual([]);
  expect(result.skipped).toEqual([{ type: 'JSON-LD', reservation_number: null, reason: expect.stringMatching(/^no JSON-LD found/) }]);
  // The other hostile shapes: an ld+json script never closed, tags without `>`, deep <div>s.
  for (const content of ['<script type="application/ld+json">'.repeat(28_000), `<script type="application/ld+json" ${'a=b '.repeat(250_000)}`, `${'<div>'.repeat(100_000)}${'</div>'.repeat(80_000)}`]) {
    expect(structured(await server.call('import_reservations', { content })).created).toEqual([]);
  }
  expect(structured(await server.call('list_trips', {})).trips).toEqual([]);
}, 30_000);

test('JSON-LD nested 9,000 deep is refused with the limit named, over MCP and the CLI; nothing is imported', async () => {
  const result = await server.call('import_reservations', { content: deepBooking(9_000) });
  expect(result.isError).toBe(true);
  expect(textOf(result)).toMatch(/^content: JSON-LD nested deeper than 100 levels/);
  expect(textOf(result)).not.toMatch(/internal|stack|    at /);
  expect(structured(await server.call('list_trips', {})).trips).toEqual([]);

  const dir = tempDir();
  const file = join(dir, 'deep.json');
  writeFileSync(file, `{"@graph": [${JSON.stringify(flight(1))}], "deep": ${'['.repeat(9_000)}${']'.repeat(9_000)}}`);
  const out = tripcal(['import', file, '--data-dir', dir]);
  expect(out.code).toBe(2);
  expect(out.stderr).toBe(`tripcal: FILE: ${file}: JSON-LD nested deeper than 100 levels; a booking is never that deep (nothing was imported)\n`);
  expect(out.stdout).toBe('');
  // A booking 50 deep is still read.
  writeFileSync(file, deepBooking(50));
  expect(tripcal(['import', file, '--data-dir', dir]).stdout).toMatch(/\n1 added, 0 updated, 0 unchanged, 0 skipped\n$/);
}, 60_000);

test('3,000 reservations in one file are refused whole with the limit named, not cut at 1,999; 1,000 are all added', () => {
  const dir = tempDir();
  const file = join(dir, 'many.json');
  writeFileSync(file, JSON.stringify({ '@graph': Array.from({ length: 3_000 }, (_, i) => flight(i)) }));
  const refused = tripcal(['import', file, '--data-dir', dir]);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toBe(`tripcal: FILE: ${file}: more than 1000 reservations in one file; tripcal imports at most 1000 at once, split the file (nothing was imported)\n`);
  expect(refused.stdout).toBe('');
  expect(tripcal(['list', '--data-dir', dir]).stdout).not.toMatch(/UA/);

  writeFileSync(file, JSON.stringify(Array.from({ length: 1_000 }, (_, i) => flight(i))));
  const out = tripcal(['import', file, '--data-dir', dir]);
  expect(out.stderr).toBe('');
  expect(out.code).toBe(0);
  expect(out.stdout.split('\n').filter((l) => l.startsWith('added')).length).toBe(1_000);
  expect(out.stdout).toMatch(/\n1000 added, 0 updated, 0 unchanged, 0 skipped\n$/);
}, 120_000);

test('a document larger than 5 MB is refused naming the field and the limit: `content` over MCP, FILE before it is read', async () => {
  const result = await server.call('import_reservations', { content: 'x'.repeat(5_000_001) });
  expect(result.isError).toBe(true);
  expect(textOf(result)).toMatch(/<=5000000 characters at content/);

  const dir = tempDir();
  const file = join(dir, 'big.html');
  writeFileSync(file, 'x'.repeat(5_000_001));
  const out = tripcal(['import', file, '--data-dir', dir]);
  expect(out.code).toBe(2);
  expect(out.stderr).toBe(`tripcal: FILE: ${file} is 5,000,001 bytes; a file to import may be at most 5,000,000 (5 MB), nothing was imported\n`);
});
