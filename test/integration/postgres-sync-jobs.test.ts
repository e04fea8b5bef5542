// The background sync on PostgreSQL: jobs on pg-boss shared by the replicas (here two apps, each
// with its own pools and its own job worker, as two processes would have). Ticks from both at
// once queue one run per account; a run that fails is retried; a replica that dies in the middle
// of a run leaves its job to expire and the other replica to finish it, with no event twice; one
// stopped in the middle hands its job back at once.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, expect, test } from 'vitest';
import { TransientError, type CalendarProvider } from '../../providers/types.js';
import { openApp, type App } from '../../src/app.js';
import { SyncJobs } from '../../src/daemon/sync-jobs.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { MemoryCalendar } from '../support/memory-provider.js';
import { tempDir } from '../support/mcp.js';
import { freshPostgres, query } from '../support/postgres.js';

let database: { url: string; drop(): Promise<void> };
const opened: Array<{ app: App; jobs?: SyncJobs }> = [];
beforeEach(async () => {
  database = await freshPostgres();
});
afterEach(async () => {
  for (const { app, jobs } of opened.splice(0)) {
    await jobs?.stop(1_000).catch(() => undefined);
    await app.close();
  }
  await database.drop();
});
afterAll(() => undefined);

const FAST = { pollSeconds: 0.5, maintenanceSeconds: 1, retryDelaySeconds: 1, expireSeconds: 3 };

async function replica(provider: () => CalendarProvider, options = FAST): Promise<{ app: App; engine: SyncEngine; jobs: SyncJobs }> {
  const dir = tempDir();
  writeFileSync(join(dir, 'config.yaml'), 'accounts:\n  - name: mem\n    provider: caldav\n    url: http://127.0.0.1:9/\n    username: u\n    password: p\nsync:\n  on_edit: false\n  retry_attempts: 3\n');
  const app = await openApp({ dataDir: dir, configPath: join(dir, 'config.yaml'), storeUrl: database.url });
  const engine = new SyncEngine(app.store, app.config, app.trips, async () => provider());
  const jobs = await SyncJobs.open(database.url, engine, app.config, (fn) => app.store.exclusive('sync-jobs:setup', fn), options);
  opened.push({ app, jobs });
  return { app, engine, jobs };
}

async function fill(app: App, n: number): Promise<void> {
  const trip = await app.trips.createTrip(undefined, { title: 'Seville', timezone: 'Europe/Madrid', start_date: '2026-10-01', end_date: '2026-10-09' });
  for (let i = 0; i < n; i++) {
    await app.trips.addItem(undefined, { kind: 'activity', details: { name: `Alcázar ${i}`, start_time: `2026-10-0${1 + (i % 8)}T1${i % 10}:00` } }, { tripId: trip.id, path: 'a' });
  }
}

const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

const syncedLinks = async () => Number((await query<{ n: string }>(database.url, "SELECT count(*) AS n FROM links WHERE state = 'synced'"))[0]!.n);

test('ticks from two replicas at once queue one run of the account; either replica runs it', { timeout: 60_000 }, async () => {
  const cal = new MemoryCalendar();
  const runs: string[] = [];
  const counted = (who: string) => () => {
    const p = cal.provider();
    return { ...p, list: async (...args: Parameters<CalendarProvider['list']>) => { runs.push(who); return p.list(...args); } };
  };
  const a = await replica(counted('A'));
  const b = await replica(counted('B'));
  await fill(a.app, 10);
  const queued = await Promise.all([a.jobs.tick(), b.jobs.tick(), a.jobs.tick()]);
  expect(queued.reduce((x, y) => x + y, 0)).toBe(1);
  // Waiting, and its age from the queue's own table: nothing takes it until a worker starts.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const waiting = await b.jobs.depth();
  expect(waiting).toMatchObject({ queued: 1, running: 0 });
  const age = (await query<{ age: number }>(database.url,
    "SELECT floor(extract(epoch FROM now() - created_on))::int AS age FROM tripcal_jobs.job WHERE name = 'tripcal-sync-account' AND state = 'created'"))[0]!.age;
  expect(waiting.oldest_job_age_seconds).toBeGreaterThanOrEqual(1);
  expect(Math.abs(waiting.oldest_job_age_seconds! - age)).toBeLessThanOrEqual(1);
  await a.jobs.start();
  await b.jobs.start();
  await until('the run', async () => (await syncedLinks()) === 10);
  await until('the queue to empty', async () => (await a.jobs.depth()).queued === 0);
  expect(runs).toHaveLength(1);
  expect(cal.objects.size).toBe(10);
});

test('a run that fails is retried, with backoff, until it goes through', { timeout: 60_000 }, async () => {
  const cal = new MemoryCalendar();
  let failures = 2;
  const flaky = () => {
    const p = cal.provider();
    return { ...p, list: async (...args: Parameters<CalendarProvider['list']>) => {
      if (failures-- > 0) throw new TransientError('the calendar is down for a moment');
      return p.list(...args);
    } };
  };
  const a = await replica(flaky);
  await fill(a.app, 4);
  await a.jobs.start();
  expect(await a.jobs.tick()).toBe(1);
  await until('the retried run', async () => (await syncedLinks()) === 4, 30_000);
  expect(failures).toBeLessThan(0);
  expect(cal.objects.size).toBe(4);
});

test('a replica that dies in the middle of a run: its job expires and the other replica finishes it, no event twice', { timeout: 90_000 }, async () => {
  const cal = new MemoryCalendar();
  let hang = true;
  const stuck = () => {
    const p = cal.provider();
    // The first replica's run stops for good after two writes (the process is about to die).
    let writes = 0;
    return { ...p, create: async (...args: Parameters<CalendarProvider['create']>) => {
      if (hang && ++writes > 2) await new Promise(() => undefined);
      return p.create(...args);
    } };
  };
  const a = await replica(stuck);
  await fill(a.app, 8);
  await a.jobs.start();
  expect(await a.jobs.tick()).toBe(1);
  await until('two events from the doomed run', () => cal.objects.size >= 2);
  // It dies: it takes no more jobs, and its connections go (the account lock's with them), as with SIGKILL.
  hang = false;
  await a.jobs.stop(0, { handBack: false });
  await query(database.url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name IN ('tripcal (jobs)', 'tripcal (locks)') AND pid <> pg_backend_pid()");
  opened.splice(opened.findIndex((o) => o.app === a.app), 1);
  const b = await replica(() => cal.provider());
  await b.jobs.start();
  await until('the other replica to finish the run', async () => (await syncedLinks()) === 8, 60_000);
  // Exactly one event per item: the write-ahead links took the doomed run's writes as ours.
  expect(cal.objects.size).toBe(8);
  expect(new Set([...cal.objects.values()].map((o) => o.key)).size).toBe(8);
});

test('a replica stopped in the middle of a run hands its job back: another replica finishes it long before the run timeout', { timeout: 90_000 }, async () => {
  const cal = new MemoryCalendar();
  const stuck = () => {
    const p = cal.provider();
    let writes = 0;
    return { ...p, create: async (...args: Parameters<CalendarProvider['create']>) => {
      if (++writes > 2) await new Promise(() => undefined);
      return p.create(...args);
    } };
  };
  // A run timeout of a minute: a job left to expire would wait that long.
  const slow = { ...FAST, expireSeconds: 60 };
  const a = await replica(stuck, slow);
  await fill(a.app, 6);
  await a.jobs.start();
  expect(await a.jobs.tick()).toBe(1);
  await until('two events from the stopped run', () => cal.objects.size >= 2);
  const stopped = Date.now();
  await a.jobs.stop(200);
  // Handed back: waiting for its retry, not active (as it would stay until it expired).
  expect(await query(database.url, "SELECT state FROM tripcal_jobs.job WHERE name = 'tripcal-sync-account'")).toEqual([{ state: 'retry' }]);
  // The process ends: its connections go, the account lock with them.
  await query(database.url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name IN ('tripcal (jobs)', 'tripcal (locks)') AND pid <> pg_backend_pid()");
  opened.splice(opened.findIndex((o) => o.app === a.app), 1);
  const b = await replica(() => cal.provider(), slow);
  await b.jobs.start();
  await until('the other replica to finish the run', async () => (await syncedLinks()) === 6, 30_000);
  expect(Date.now() - stopped).toBeLessThan(30_000);
  expect(cal.objects.size).toBe(6);
  expect(new Set([...cal.objects.values()].map((o) => o.key)).size).toBe(6);
});
