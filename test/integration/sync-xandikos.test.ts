// The core sync scenarios against a second real CalDAV server, Xandikos, which answers
// differently from Radicale: 204 on update, precondition failures wrapped in a 207, its own
// sync-token format.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { App } from '../../src/app.js';
import { openTestApp } from '../support/app.js';
import { caldavConfig, deleteObject, listStored, putObject } from '../support/caldav.js';
import { flight } from '../support/items.js';
import { tempDir } from '../support/mcp.js';
import type { Radicale } from '../support/radicale.js';
import { startXandikos, type Xandikos } from '../support/xandikos.js';
import { sql } from '../support/sqlite.js';

let xandikos: Xandikos;
let app: App;
const collection = '/user/calendars/trips/';

beforeAll(async () => {
  xandikos = await startXandikos();
  const dir = tempDir();
  app = await openTestApp({ dataDir: dir, configPath: caldavConfig(dir, xandikos as unknown as Radicale, { url: `${xandikos.url}/` }) });
});
afterAll(async () => {
  await app?.close();
  await xandikos?.stop();
});

test('create, edit, remote edit, remote delete, delete and a stale token on Xandikos', async () => {
  const f = await app.trips.addItem(undefined, flight('Lufthansa', 'LH400', 'FRA', 'JFK', '2025-09-01T10:00', '2025-09-01T12:45'), { path: 'f' });
  const tour = await app.trips.addItem(undefined, { kind: 'activity', details: { name: 'High Line walk', start_time: '2025-09-02T10:00' } }, { tripId: f.trip.id, path: 'a' });
  expect((await app.sync.sync())[0]).toMatchObject({ status: 'ok', counts: { created: 2 } });
  let stored = await listStored(xandikos, collection);
  expect(stored.map((e) => e.summary).sort()).toEqual(['Flight: Lufthansa LH400', 'High Line walk']);
  expect(stored.find((e) => e.summary.startsWith('Flight'))).toMatchObject({ startTzid: 'Europe/Berlin', endTzid: 'America/New_York' });

  await app.trips.updateItem(undefined, tour.item.id, { changes: { start_time: '2025-09-02T11:00' } });
  expect((await app.sync.sync())[0]!.counts).toMatchObject({ updated: 1, unchanged: 1 });

  // The user moves the tour in their calendar app; model_wins moves it back.
  const walk = (await listStored(xandikos, collection)).find((e) => e.summary === 'High Line walk')!;
  const moved = walk.data.replace(/DTSTART;TZID=America\/New_York:20250902T110000/, 'DTSTART;TZID=America/New_York:20250902T170000')
    .replace(/DTEND;TZID=America\/New_York:20250902T120000/, 'DTEND;TZID=America/New_York:20250902T180000');
  expect((await putObject(xandikos, new URL(walk.href, xandikos.url).pathname, moved, { 'if-match': walk.etag })).status).toBeLessThan(300);
  expect((await app.sync.sync())[0]!.counts.updated).toBe(1);
  expect((await listStored(xandikos, collection)).find((e) => e.summary === 'High Line walk')!.startUtc).toBe('2025-09-02T15:00:00.000Z');

  // A stale etag on Xandikos comes back as a 207 with an inner 412: still a conflict, re-read, resolved.
  const link = (await app.sync.links.link('home', `${tour.item.id}:activity`))!;
  await app.sync.links.saveLink({ ...link, remoteEtag: '"stale"' });
  await app.trips.updateItem(undefined, tour.item.id, { changes: { name: 'High Line walk (sunset)' } });
  expect((await app.sync.sync())[0]).toMatchObject({ status: 'ok', counts: { updated: 1, failed: 0 } });

  // Deleted in the calendar: reported, not recreated.
  stored = await listStored(xandikos, collection);
  const flightEvent = stored.find((e) => e.summary.startsWith('Flight'))!;
  await deleteObject(xandikos, new URL(flightEvent.href, xandikos.url).pathname);
  expect((await app.sync.sync())[0]!.gone).toEqual([`${f.item.id}:flight`]);

  // An invalid sync token falls back to a full listing.
  await sql(app).run("UPDATE accounts SET cursor = 'http://example.invalid/sync/1'");
  expect((await app.sync.sync())[0]).toMatchObject({ status: 'ok', counts: { created: 0, updated: 0, deleted: 0 } });

  await app.trips.deleteTrip(undefined, f.trip.id);
  expect((await app.sync.sync())[0]!.counts.deleted).toBe(1);
  expect(await listStored(xandikos, collection)).toEqual([]);
});
