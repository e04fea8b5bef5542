// What a CalDAV sync costs on the wire, each run a new `tripcal sync` process against a real
// Radicale, counted by a proxy in front of it (not by tripcal): the calendar found once, then one
// REPORT when nothing changed and one more request per change. A calendar that is no longer where
// it was remembered, another configured URL, or an expired sync token (RFC 6578 §3.2) still work.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openApp, type App } from '../../src/app.js';
import { caldavConfig, listStored } from '../support/caldav.js';
import { startFaultProxy, type FaultProxy } from '../support/faultproxy.js';
import { CLI, tempDir } from '../support/mcp.js';
import { startRadicale, type Radicale } from '../support/radicale.js';
import { sql } from '../support/sqlite.js';

const run = promisify(execFile);
let radicale: Radicale;
let proxy: FaultProxy;

beforeAll(async () => {
  radicale = await startRadicale();
  proxy = await startFaultProxy(radicale.url, { rate: 0 });
});
afterAll(async () => {
  await proxy?.stop();
  await radicale?.stop();
});

let calendars = 0;

function account(url = `${proxy.url}/`) {
  calendars += 1;
  const dir = tempDir();
  const calendar = `Counted ${calendars}`;
  const collection = `/${radicale.username}/counted-${calendars}/`;
  return { dir, calendar, collection, config: caldavConfig(dir, radicale, { url, calendar }) };
}

/** One `tripcal sync` in a new process: the requests the proxy saw, as `METHOD /path`. */
async function coldSync(a: { dir: string; config: string }): Promise<{ requests: string[]; output: string }> {
  const start = proxy.log.length;
  const { stdout } = await run(process.execPath, [CLI, 'sync', '--config', a.config, '--data-dir', a.dir], { env: { ...process.env, TRIPCAL_LOG_LEVEL: 'silent' } });
  return { requests: proxy.log.slice(start), output: stdout };
}

function methods(requests: string[]): string[] {
  return requests.map((r) => r.split(' ')[0]!);
}

/** Opens the account's store, does `fn`, closes it again (the CLI runs need it closed). */
async function withStore<T>(a: { dir: string; config: string }, fn: (app: App) => Promise<T> | T): Promise<T> {
  const app = await openApp({ dataDir: a.dir, configPath: a.config });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

async function addItems(app: App, n: number): Promise<string[]> {
  const trip = await app.trips.createTrip(undefined, { title: 'Counted', timezone: 'Europe/Paris', start_date: '2026-03-01', end_date: '2026-03-31' });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push((await app.trips.addItem(undefined, {
      kind: 'activity', details: { name: `Visit ${i}`, start_time: `2026-03-${String(i + 1).padStart(2, '0')}T10:00` },
    }, { tripId: trip.id, path: 'a' })).item.id);
  }
  return ids;
}

const cursorOf = async (app: App) => JSON.parse(((await sql(app).get('SELECT cursor FROM accounts')) as { cursor: string }).cursor) as Record<string, unknown>;

describe('CalDAV requests from a new process each run', () => {
  test('first sync: the calendar is found and made, then one PUT per event; no change: 1 request; one edit: 2', async () => {
    const a = await account();
    const ids = await withStore(a, (app) => addItems(app, 5));

    const first = await coldSync(a);
    expect(first.output).toMatch(/ok — created 5/);
    // Radicale's calendar home is the principal: one PROPFIND for the principal, one for the home's calendars.
    expect(methods(first.requests)).toEqual(['PROPFIND', 'PROPFIND', 'MKCALENDAR', 'PUT', 'PUT', 'PUT', 'PUT', 'PUT']);
    expect(await listStored(radicale, a.collection)).toHaveLength(5);

    const quiet = await coldSync(a);
    expect(quiet.requests).toEqual([`REPORT ${a.collection}`]);
    expect(quiet.output).toMatch(/unchanged 5/);
    const again = await coldSync(a);
    expect(again.requests).toEqual([`REPORT ${a.collection}`]);

    await withStore(a, async (app) => await app.trips.updateItem(undefined, ids[2]!, { changes: { name: 'Visit 2 (moved)' } }));
    const edited = await coldSync(a);
    expect(methods(edited.requests)).toEqual(['REPORT', 'PUT']);
    expect(edited.output).toMatch(/updated 1/);
    expect((await listStored(radicale, a.collection)).map((e) => e.summary)).toContain('Visit 2 (moved)');
    // Our own write comes back in the next listing with the etag we already know: nothing is read.
    expect((await coldSync(a)).requests).toEqual([`REPORT ${a.collection}`]);
  });

  test('a remembered calendar that is gone from its URL is found again, and listed whole', async () => {
    const a = await account();
    await withStore(a, (app) => addItems(app, 3));
    await coldSync(a);
    await withStore(a, async (app) => {
      const cursor = { ...(await cursorOf(app)), collection: `${proxy.url}/${radicale.username}/nowhere/` };
      await sql(app).run('UPDATE accounts SET cursor = ?', [JSON.stringify(cursor)]);
    });
    const moved = await coldSync(a);
    expect(moved.requests).toEqual([`REPORT /${radicale.username}/nowhere/`, `PROPFIND /`, `PROPFIND /${radicale.username}/`, `REPORT ${a.collection}`]);
    expect(moved.output).toMatch(/created 0, updated 0, deleted 0, unchanged 3/);
    expect((await coldSync(a)).requests).toEqual([`REPORT ${a.collection}`]);
  });

  test('another configured URL for the same calendar discovers it again instead of trusting the remembered one', async () => {
    const a = await account();
    await withStore(a, (app) => addItems(app, 2));
    await coldSync(a);
    const b = { ...a, config: caldavConfig(a.dir, radicale, { url: `${proxy.url}/${radicale.username}/`, calendar: a.calendar }) };
    const rediscovered = await coldSync(b);
    expect(methods(rediscovered.requests)).toEqual(['PROPFIND', 'PROPFIND', 'REPORT']);
    expect(rediscovered.output).toMatch(/created 0, updated 0, deleted 0, unchanged 2/);
    expect((await coldSync(b)).requests).toEqual([`REPORT ${a.collection}`]);
  });

  test('an expired sync token (valid-sync-token) is a full listing of the same calendar, without discovery', async () => {
    const a = await account();
    await withStore(a, (app) => addItems(app, 2));
    await coldSync(a);
    await coldSync(a);
    await withStore(a, async (app) => {
      const cursor = { ...(await cursorOf(app)), token: 'http://radicale.org/ns/sync/0000000000000000000000000000000000000000000000000000000000000000' };
      await sql(app).run('UPDATE accounts SET cursor = ?', [JSON.stringify(cursor)]);
    });
    const expired = await coldSync(a);
    expect(expired.requests).toEqual([`REPORT ${a.collection}`, `REPORT ${a.collection}`]);
    expect(expired.output).toMatch(/created 0, updated 0, deleted 0, unchanged 2/);
    expect((await coldSync(a)).requests).toEqual([`REPORT ${a.collection}`]);
  });
});
