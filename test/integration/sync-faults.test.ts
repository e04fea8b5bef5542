// Crash safety and faults against a real Radicale: a `tripcal sync` process killed with SIGKILL
// right after its Nth remote write, and a proxy injecting 429s, 503s, resets and delays. After
// each, syncing again must converge: every desired event exactly once, nothing else of ours.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import type { App } from '../../src/app.js';
import { openTestApp, storeEnv } from '../support/app.js';
import { desiredEvents } from '../../src/events/desired.js';
import { caldavConfig, listStored } from '../support/caldav.js';
import { startFaultProxy, type FaultProxy } from '../support/faultproxy.js';
import { flight } from '../support/items.js';
import { CLI, tempDir } from '../support/mcp.js';
import { startRadicale, type Radicale } from '../support/radicale.js';
import { sql } from '../support/sqlite.js';

let radicale: Radicale;
let proxy: FaultProxy;
let counter = 0;

beforeAll(async () => {
  radicale = await startRadicale();
  proxy = await startFaultProxy(radicale.url);
});
afterAll(async () => {
  await proxy?.stop();
  await radicale?.stop();
});

interface Setup {
  app: App;
  dir: string;
  config: string;
  collection: string;
}

async function setup(sync?: string): Promise<Setup> {
  counter += 1;
  const dir = tempDir();
  const config = caldavConfig(dir, radicale, { url: `${proxy.url}/`, calendar: `Crash ${counter}`, sync });
  const app = await openTestApp({ dataDir: dir, configPath: config });
  return { app, dir, config, collection: `/${radicale.username}/crash-${counter}/` };
}

async function fillTrip(app: App) {
  const f1 = await app.trips.addItem(undefined, flight('United Airlines', 'UA123', 'LAX', 'JFK', '2025-06-15T08:00', '2025-06-15T16:30'), { path: 'f' });
  const tripId = f1.trip.id;
  const stay = await app.trips.addItem(undefined, { kind: 'stay', details: { name: 'The Plaza', check_in: '2025-06-15', check_out: '2025-06-18' } }, { tripId, path: 's' });
  const tour = await app.trips.addItem(undefined, { kind: 'activity', details: { name: 'Harbor tour', start_time: '2025-06-16T10:00' } }, { tripId, path: 'a' });
  const show = await app.trips.addItem(undefined, { kind: 'activity', details: { name: 'Hamilton', start_time: '2025-06-17T19:00' } }, { tripId, path: 'a' });
  const back = await app.trips.addItem(undefined, flight('United Airlines', 'UA456', 'JFK', 'LAX', '2025-06-18T18:00', '2025-06-18T21:15'), { tripId, path: 'f' });
  return { tripId, items: [f1.item, stay.item, tour.item, show.item, back.item] };
}

/** Every desired event exactly once in the calendar, with its current title and times; no stray event of ours. */
async function expectConverged(app: App, collection: string): Promise<void> {
  const desired = desiredEvents((await app.store.userItems('me')));
  const stored = (await listStored(radicale, collection)).filter((e) => e.key);
  const keys = stored.map((e) => e.key!).sort();
  expect(keys).toEqual(desired.map((d) => d.key).sort());
  for (const d of desired) {
    const s = stored.find((e) => e.key === d.key)!;
    expect(s.summary).toBe(d.summary);
    expect(s.startUtc.replace('.000Z', 'Z')).toBe(d.start.utc);
    expect(s.endUtc.replace('.000Z', 'Z')).toBe(d.end.utc);
  }
}

/** Runs `tripcal sync` as a child process and SIGKILLs it right after the server carried out its Nth write. */
async function syncKilledAfter(s: Setup, n: number): Promise<{ killed: boolean }> {
  const env = { ...process.env, TRIPCAL_LOG_LEVEL: 'silent', ...(await storeEnv(s.dir)) };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'sync', '--config', s.config, '--data-dir', s.dir], { env, stdio: 'ignore' });
    const start = proxy.writes;
    let killed = false;
    proxy.afterWrite = (count) => {
      if (count - start === n) {
        killed = true;
        child.kill('SIGKILL');
      }
    };
    child.on('exit', () => {
      proxy.afterWrite = null;
      resolve({ killed });
    });
  });
}

describe('a sync killed with SIGKILL', () => {
  test.each([1, 2, 3, 4, 5, 6])('after its write no. %i of a first sync converges with no duplicates', async (n) => {
    const s = await setup();
    await fillTrip(s.app);
    await s.app.close();
    const { killed } = await syncKilledAfter(s, n);
    expect(killed).toBe(true);
    const app = await openTestApp({ dataDir: s.dir, configPath: s.config });
    try {
      const [report] = await app.sync.sync();
      expect(report!.status).toBe('ok');
      await expectConverged(app, s.collection);
      expect((await app.sync.sync())[0]!.counts).toMatchObject({ created: 0, updated: 0, deleted: 0 });
    } finally {
      await app.close();
    }
  });

  test.each([1, 2, 3])('after write no. %i of edits and deletes converges too', async (n) => {
    const s = await setup();
    const { items } = (await fillTrip(s.app));
    await s.app.sync.sync();
    await s.app.trips.updateItem(undefined, items[2]!.id, { changes: { start_time: '2025-06-16T12:00' } });
    await s.app.trips.updateItem(undefined, items[3]!.id, { changes: { name: 'Hamilton (matinee)', start_time: '2025-06-17T14:00' } });
    await s.app.trips.deleteItem(undefined, items[4]!.id);
    await s.app.close();
    expect((await syncKilledAfter(s, n)).killed).toBe(true);
    const app = await openTestApp({ dataDir: s.dir, configPath: s.config });
    try {
      expect((await app.sync.sync())[0]!.status).toBe('ok');
      await expectConverged(app, s.collection);
    } finally {
      await app.close();
    }
  });
});

describe('a server that truncates sync-collection (507)', () => {
  test('the listing follows continuation tokens to the end, full and incremental', async () => {
    const s = await setup();
    const trip = await s.app.trips.createTrip(undefined, { title: 'Long', timezone: 'Europe/Rome', start_date: '2025-05-01', end_date: '2025-05-31' });
    for (let i = 1; i <= 12; i++) {
      await s.app.trips.addItem(undefined, { kind: 'activity', details: { name: `Day ${i}`, start_time: `2025-05-${String(i).padStart(2, '0')}T10:00` } }, { tripId: trip.id, path: 'a' });
    }
    expect((await s.app.sync.sync())[0]).toMatchObject({ status: 'ok', counts: { created: 12 } });
    proxy.truncateSyncAt = 5;
    try {
      // A full listing (no token) in three parts: nothing may look deleted.
      await sql(s.app).run('UPDATE accounts SET cursor = NULL');
      const before = proxy.truncatedAnswers;
      expect((await s.app.sync.sync())[0]).toMatchObject({ status: 'ok', counts: { unchanged: 12, created: 0 }, gone: [] });
      expect(proxy.truncatedAnswers - before).toBe(2);
      // Seven events edited in the calendar app: an incremental listing in two parts sees them all.
      const stored = (await listStored(radicale, s.collection)).slice(0, 7);
      for (const e of stored) {
        const res = await fetch(`${radicale.url}${new URL(e.href, radicale.url).pathname}`, {
          method: 'PUT', headers: { authorization: radicale.authHeader, 'content-type': 'text/calendar', 'if-match': e.etag },
          body: e.data.replace(/SUMMARY:Day/, 'SUMMARY:Moved day'),
        });
        expect(res.status).toBeLessThan(300);
      }
      const [report] = await s.app.sync.sync();
      expect(report).toMatchObject({ status: 'ok', counts: { updated: 7, unchanged: 5 } });
      await expectConverged(s.app, s.collection);
    } finally {
      proxy.truncateSyncAt = null;
      await s.app.close();
    }
  });
});

describe('an unreliable network', () => {
  test('429s, 503s, resets and delays on 20 % of requests: converges, no duplicates, no lost edit', async () => {
    const s = await setup('  retry_attempts: 8');
    const { items } = (await fillTrip(s.app));
    proxy.rate = 0.2;
    try {
      const runUntilOk = async () => {
        for (let i = 0; i < 10; i++) {
          const [report] = await s.app.sync.sync();
          if (report!.status === 'ok') return i + 1;
        }
        throw new Error('did not converge in 10 runs');
      };
      await runUntilOk();
      await s.app.trips.updateItem(undefined, items[2]!.id, { changes: { start_time: '2025-06-16T09:30' } });
      await s.app.trips.deleteItem(undefined, items[3]!.id);
      for (let i = 0; i < 5; i++) await s.app.trips.addItem(undefined, { kind: 'activity', details: { name: `Walk ${i}`, start_time: `2025-06-1${5 + (i % 3)}T0${i + 1}:00` } }, { tripId: items[0]!.tripId, path: 'a' });
      await runUntilOk();
    } finally {
      proxy.rate = 0;
    }
    expect(Object.values(proxy.injected).reduce((a, b) => a + b, 0)).toBeGreaterThan(5);
    await expectConverged(s.app, s.collection);
    await s.app.close();
  });

  test('the server is down during a tool edit: the edit is kept, pending, and the next sync delivers it', async () => {
    const dir = tempDir();
    const down = `http://127.0.0.1:9/`;
    const config = caldavConfig(dir, radicale, { url: down, calendar: 'Down' });
    const app = await openTestApp({ dataDir: dir, configPath: config });
    const { item, trip } = await app.trips.addItem(undefined, flight('Delta', 'DL1', 'JFK', 'LAX', '2025-07-01T10:00', '2025-07-01T13:00'), { path: 'f' });
    const outcome = await app.syncAfterEdit('me', trip.id);
    expect(outcome.status).toBe('pending');
    expect((await app.trips.getTrip(undefined, trip.id)).items.map((i) => i.id)).toEqual([item.id]);
    // The run goes on in the background, retrying the unreachable server within the retry
    // budget; once it gives up, the account shows the error and the event is still pending.
    await vi.waitFor(() => expect(app.sync.busy('home')).toBe(false), { timeout: 30_000, interval: 100 });
    const { syncStatus } = await import('../../src/sync/status.js');
    expect((await syncStatus(app.store, app.sync))[0]).toMatchObject({ state: 'error', pending: 1 });
    await app.close();
    // The server is back (the config now points at it): the next sync delivers the change.
    const back = await openTestApp({ dataDir: dir, configPath: caldavConfig(dir, radicale, { calendar: 'Down' }) });
    try {
      expect((await back.sync.sync())[0]).toMatchObject({ status: 'ok', counts: { created: 1 } });
      await expectConverged(back, `/${radicale.username}/down/`);
    } finally {
      await back.close();
    }
  });
});
