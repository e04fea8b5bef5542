// Two tripcal processes' sync engines on one PostgreSQL model (here two apps, each with its own
// pool, so to PostgreSQL they are two clients like two replicas) syncing the same account at the
// same moment: the runs take turns (a session advisory lock per account), so the calendar gets one
// event per item and the second run finds nothing left to do. A run whose process died lets go.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import type { CalendarProvider } from '../../providers/types.js';
import { openApp, type App } from '../../src/app.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { MemoryCalendar } from '../support/memory-provider.js';
import { tempDir } from '../support/mcp.js';
import { freshPostgres, query } from '../support/postgres.js';

let database: { url: string; drop(): Promise<void> };
const apps: App[] = [];
beforeAll(async () => {
  database = await freshPostgres();
});
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});
afterAll(async () => {
  await database?.drop();
});

async function replica(): Promise<App> {
  const dir = tempDir();
  writeFileSync(join(dir, 'config.yaml'), 'accounts:\n  - name: mem\n    provider: caldav\n    url: http://127.0.0.1:9/\n    username: u\n    password: p\nsync:\n  on_edit: false\n');
  const app = await openApp({ dataDir: dir, configPath: join(dir, 'config.yaml'), storeUrl: database.url });
  apps.push(app);
  return app;
}

/** The calendar's provider, slowed down and logging which replica made each call. */
function logged(cal: MemoryCalendar, who: string, calls: string[]): CalendarProvider {
  const provider = cal.provider();
  const slow = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => async (...args: A) => {
    calls.push(who);
    await new Promise((resolve) => setTimeout(resolve, 5));
    return fn(...args);
  };
  return { ...provider, list: slow(provider.list), create: slow(provider.create), update: slow(provider.update), delete: slow(provider.delete) };
}

test('two replicas syncing one account at once take turns: one event per item, the second run writes nothing', async () => {
  const a = await replica();
  const b = await replica();
  const trip = await a.trips.createTrip(undefined, { title: 'Lisbon', timezone: 'Europe/Lisbon', start_date: '2026-05-01', end_date: '2026-05-10' });
  for (let i = 0; i < 12; i++) {
    await a.trips.addItem(undefined, { kind: 'activity', details: { name: `Tile museum ${i}`, start_time: `2026-05-0${1 + (i % 9)}T1${i % 10}:00` } }, { tripId: trip.id, path: 'a' });
  }
  const cal = new MemoryCalendar();
  const calls: string[] = [];
  const engineA = new SyncEngine(a.store, a.config, a.trips, async () => logged(cal, 'A', calls));
  const engineB = new SyncEngine(b.store, b.config, b.trips, async () => logged(cal, 'B', calls));
  const [[ra], [rb]] = await Promise.all([engineA.sync(), engineB.sync()]);
  expect([ra!.status, rb!.status]).toEqual(['ok', 'ok']);
  // One run did the work, the other (after it) found it done.
  expect([ra!.counts.created, rb!.counts.created].sort()).toEqual([0, 12]);
  expect(cal.objects.size).toBe(12);
  // Turns, not interleaving: all of one replica's calls, then all of the other's.
  const blocks = calls.filter((who, i) => i === 0 || who !== calls[i - 1]);
  expect(blocks).toHaveLength(2);
  const links = await query<{ n: string }>(database.url, "SELECT count(*) AS n FROM links WHERE account = 'mem' AND state = 'synced'");
  expect(Number(links[0]!.n)).toBe(12);
});

test('the lock of a replica that died (its connection gone) is free again', async () => {
  const a = await replica();
  // Never closed: its pool would wait for the run that never ends, as a dead process's would.
  apps.splice(apps.indexOf(a), 1);
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => { entered = resolve; });
  // A run that never ends, then its process "dies": the pool's connections close.
  void a.store.exclusive('sync:mem', async () => {
    entered();
    await new Promise(() => undefined);
  });
  await inside;
  const held = await query<{ n: string }>(database.url, "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted");
  expect(Number(held[0]!.n)).toBeGreaterThanOrEqual(1);
  await query(database.url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tripcal (locks)' AND datname = current_database()");
  const b = await replica();
  const ran = await Promise.race([
    b.store.exclusive('sync:mem', async () => 'ran'),
    new Promise((resolve) => setTimeout(() => resolve('still locked'), 5_000)),
  ]);
  expect(ran).toBe('ran');
});
