// Two `tripcal daemon` processes, each with its own data directory, on one PostgreSQL model (the
// hosted layout): driven over MCP HTTP by the SDK client as an agent would. What one writes the
// other reads at once; edits that collide across the processes leave exactly one winner and
// nothing half done; the CLI and `tripcal serve` over stdio see the same model; a process with
// another vault key, or a database it cannot reach, refuses to start and says why, without the
// password. The expected rows come from the database itself (pg, not tripcal's store).
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { connectHttp, startDaemonProcess, type HttpClient, type RunningDaemon } from '../support/daemon.js';
import { CLI, connect, SPEC_FLIGHT, structured, tempDir } from '../support/mcp.js';
import { freshPostgres, query } from '../support/postgres.js';
import { freePort } from '../support/radicale.js';

const TOKEN = 'replica-token-0123456789abcdef';
const KEY = 'the one vault passphrase every replica shares';

let database: { url: string; drop(): Promise<void> };
const daemons: RunningDaemon[] = [];
const clients: HttpClient[] = [];
let env: Record<string, string>;

async function replica(): Promise<{ daemon: RunningDaemon; client: HttpClient; dir: string }> {
  const dir = tempDir();
  const port = await freePort();
  writeFileSync(join(dir, 'config.yaml'), [
    'log_level: warn', 'users:', '  me:', '    timezone: Europe/Berlin', 'sync:', '  on_edit: false',
    'http:', `  listen: 127.0.0.1:${port}`, `  token: ${TOKEN}`, '',
  ].join('\n'));
  const daemon = await startDaemonProcess(['--config', join(dir, 'config.yaml'), '--data-dir', dir], env);
  daemons.push(daemon);
  const client = await connectHttp(daemon.mcpUrl, { authorization: `Bearer ${TOKEN}` });
  clients.push(client);
  return { daemon, client, dir };
}

let a: Awaited<ReturnType<typeof replica>>;
let b: Awaited<ReturnType<typeof replica>>;

beforeAll(async () => {
  database = await freshPostgres();
  env = { DATABASE_URL: database.url, TRIPCAL_ENCRYPTION_KEY: KEY };
  // Started together: the schema is made once (an advisory lock), whichever comes first.
  [a, b] = await Promise.all([replica(), replica()]);
});
afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  for (const d of daemons) await d.stop();
  await database?.drop();
});

test('what one daemon writes the other reads at once: trips, items, versions, the journal', async () => {
  const made = structured(await a.client.call('create_itinerary', { trip_name: 'Berlin', flights: [SPEC_FLIGHT.flight_details] }));
  const trip = made.trip_id as string;
  const seen = structured(await b.client.call('get_trip', { trip_id: trip }));
  expect(seen.trip.title).toBe('Berlin');
  expect(seen.items.map((i: { summary: string }) => i.summary)).toEqual(made.events.map((i: { summary: string }) => i.summary));
  structured(await b.client.call('add_activity', { trip_id: trip, activity_details: { name: 'Pergamon', start_time: '2025-06-16T10:00', timezone: 'Europe/Berlin' } }));
  expect(structured(await a.client.call('get_trip', { trip_id: trip })).items).toHaveLength(2);
  const rows = await query<{ action: string }>(database.url, 'SELECT action FROM journal WHERE trip_id = $1 ORDER BY seq', [trip]);
  expect(rows.map((r) => r.action)).toEqual(['trip.create', 'item.add', 'item.add']);
  expect((await query(database.url, 'SELECT id FROM users'))).toEqual([{ id: 'me' }]);
  // Both replicas take sync jobs from the one queue in the database; /healthz says how many wait.
  for (const r of [a, b]) {
    const health = await (await fetch(r.daemon.healthUrl, { headers: { authorization: `Bearer ${TOKEN}` } })).json() as { sync_jobs?: { queued: number } };
    expect(health.sync_jobs).toEqual({ queued: 0, running: 0, oldest_job_age_seconds: null });
  }
  expect(a.daemon.stdout()).toMatch(/on PostgreSQL: one of any number of replicas/);
  // The feed served by the other daemon follows too (it reads the model, not only its own edits);
  // the same vault, so the same feed link on both.
  const feedPath = (d: RunningDaemon) => new URL(d.feeds.me!).pathname;
  expect(feedPath(b.daemon)).toBe(feedPath(a.daemon));
  const feed = await (await fetch(b.daemon.feeds.me!)).text();
  expect(feed).toContain('SUMMARY:Pergamon');
  structured(await a.client.call('add_activity', { trip_id: trip, activity_details: { name: 'Bode Museum', start_time: '2025-06-17T10:00', timezone: 'Europe/Berlin' } }));
  expect(await (await fetch(b.daemon.feeds.me!)).text()).toContain('SUMMARY:Bode Museum');
});

test('the same item edited from both daemons at once with expected_version: one wins, the other is told, nothing is half done', async () => {
  const added = structured(await a.client.call('add_activity', { activity_details: { name: 'Opera', start_time: '2025-10-01T19:00', timezone: 'Europe/Berlin' } }));
  const results = await Promise.all([
    a.client.call('update_item', { item_id: added.item_id, expected_version: 1, changes: { name: 'Opera (stalls)' } }),
    b.client.call('update_item', { item_id: added.item_id, expected_version: 1, changes: { name: 'Opera (balcony)' } }),
  ]);
  const ok = results.filter((r) => !r.isError);
  const refused = results.filter((r) => r.isError);
  expect(ok).toHaveLength(1);
  expect(refused).toHaveLength(1);
  expect(JSON.stringify(refused[0]!.content)).toMatch(/expected_version: item is at version 2, not 1/);
  const [row] = await query<{ version: number; data: string }>(database.url, 'SELECT version, data FROM items WHERE id = $1', [added.item_id]);
  expect(row!.version).toBe(2);
  expect(JSON.parse(row!.data).name).toBe(structured(ok[0]!).item.summary);
});

test('twenty additions spread over both daemons at once all land, in one trip whose span holds them all', async () => {
  const trip = structured(await a.client.call('create_trip', { title: 'Conference', timezone: 'Asia/Tokyo', start_date: '2026-04-01', end_date: '2026-04-05' })).trip_id as string;
  const calls = Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).client.call('add_activity', {
    trip_id: trip, activity_details: { name: `Talk ${i}`, start_time: `2026-04-0${1 + (i % 5)}T${String(9 + (i % 8)).padStart(2, '0')}:00` },
  }));
  const results = await Promise.all(calls);
  expect(results.filter((r) => r.isError).map((r) => JSON.stringify(r.content))).toEqual([]);
  const items = await query<{ n: string }>(database.url, 'SELECT count(*) AS n FROM items WHERE trip_id = $1 AND deleted_at IS NULL', [trip]);
  expect(Number(items[0]!.n)).toBe(20);
  const [span] = await query<{ start_utc: string; end_utc: string; version: number }>(database.url, 'SELECT start_utc, end_utc, version FROM trips WHERE id = $1', [trip]);
  const [extent] = await query<{ min: string; max: string }>(database.url, 'SELECT min(start_utc), max(end_utc) FROM items WHERE trip_id = $1', [trip]);
  // The dates the trip was given (Tokyo days) hold every talk; each addition bumped the version once.
  expect(span!.start_utc <= extent!.min && span!.end_utc >= extent!.max).toBe(true);
  expect(span!.version).toBe(21);
});

test('the CLI and `tripcal serve` (stdio) on a third data directory see the same model', async () => {
  const dir = tempDir();
  const listed = JSON.parse(execFileSync(process.execPath, [CLI, 'list', '--json', '--data-dir', dir], { encoding: 'utf8', env: { ...process.env, ...env } }));
  const titles = listed.map((t: { title: string }) => t.title);
  expect(titles).toEqual(expect.arrayContaining(['Berlin', 'Conference']));
  expect(titles).toHaveLength(Number((await query<{ n: string }>(database.url, 'SELECT count(*) AS n FROM trips WHERE deleted_at IS NULL'))[0]!.n));
  const stdio = await connect({ dataDir: dir, env });
  try {
    const trips = structured(await stdio.call('list_trips', {})).trips as Array<{ title: string }>;
    expect(trips.map((t) => t.title).sort()).toEqual(listed.map((t: { title: string }) => t.title).sort());
  } finally {
    await stdio.close();
  }
  const doctor = spawnSync(process.execPath, [CLI, 'doctor', '--data-dir', dir], { encoding: 'utf8', env: { ...process.env, ...env } });
  expect(doctor.status, doctor.stdout + doctor.stderr).toBe(0);
  expect(doctor.stdout).toMatch(/database\s+PostgreSQL postgres:\/\/tripcal:\*\*\*@127\.0\.0\.1:5432\/tripcal_test_/);
  expect(doctor.stdout).toMatch(/schema version\s+11/);
  expect(doctor.stdout).not.toContain(':tripcal@');
});

test('a replica with another vault key refuses to start; an unreachable database is one line without the password', async () => {
  const dir = tempDir();
  const port = await freePort();
  writeFileSync(join(dir, 'config.yaml'), `http:\n  listen: 127.0.0.1:${port}\n`);
  await expect(startDaemonProcess(['--config', join(dir, 'config.yaml'), '--data-dir', dir], { ...env, TRIPCAL_ENCRYPTION_KEY: 'some other passphrase' }))
    .rejects.toThrow(/TRIPCAL_ENCRYPTION_KEY\) is not the one/);
  const wrong = database.url.replace(':tripcal@', ':not-the-password@');
  const run = spawnSync(process.execPath, [CLI, 'list', '--data-dir', dir], { encoding: 'utf8', env: { ...process.env, DATABASE_URL: wrong } });
  expect(run.status).toBe(1);
  expect(run.stderr).toMatch(/postgres:\/\/tripcal:\*\*\*@127\.0\.0\.1:5432\/tripcal_test_\w+: /);
  expect(run.stderr).not.toContain('not-the-password');
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
  const closed = spawnSync(process.execPath, [CLI, 'list', '--data-dir', dir], { encoding: 'utf8', env: { ...process.env, DATABASE_URL: 'postgres://tripcal:secret-pw@127.0.0.1:9/tripcal' } });
  expect(closed.status).toBe(1);
  expect(closed.stderr).toMatch(/postgres:\/\/tripcal:\*\*\*@127\.0\.0\.1:9\/tripcal/);
  expect(closed.stderr).not.toContain('secret-pw');
});
