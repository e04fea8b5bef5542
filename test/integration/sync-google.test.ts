// The sync engine against the Google fake: what the calendar app changes is handled by each
// policy (also when it lands between our listing and our write: a real 412), an expired sync
// token mid-life, a token refresh during a sync, random quota errors / 5xx / lost answers at 20 %
// of requests, and `tripcal sync` killed after its Nth write. Every time: converged, each desired
// event exactly once, nothing of ours left over.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { App } from '../../src/app.js';
import { googleTokensSecret } from '../../src/auth/vault.js';
import { desiredEvents } from '../../src/events/desired.js';
import { syncStatus } from '../../src/sync/status.js';
import { eventIdForKey } from '../../providers/google/ids.js';
import { startGoogleFake, type GoogleFake } from '../support/google-fake.js';
import { flight } from '../support/items.js';
import { syncKilledAfterWrite } from '../support/kill.js';
import { tempDir } from '../support/mcp.js';
import { Duration } from 'luxon';
import { syncUntilSettled, openTestApp } from '../support/app.js';

let fake: GoogleFake;
const apps: App[] = [];

beforeAll(async () => {
  fake = await startGoogleFake();
});
afterAll(async () => {
  for (const a of apps) await a.close();
  await fake?.stop();
});
beforeEach(async () => {
  // Each test gets a calendar of its own.
  fake.calendar().events.clear();
  fake.randomFaults = null;
  fake.beforeWrite = null;
  fake.afterWrite = null;
});

interface Setup {
  app: App;
  dir: string;
  config: string;
}

async function setup(policy = 'model_wins', extra = ''): Promise<Setup> {
  const dir = tempDir();
  const config = join(dir, 'config.yaml');
  writeFileSync(config, [
    'google:',
    `  client_id: ${fake.clientId}`,
    `  client_secret: ${fake.clientSecret}`,
    `  token_url: ${fake.tokenUrl}`,
    `  api_root: ${fake.url}/`,
    'accounts:',
    '  - name: work',
    '    provider: google',
    `    policy: ${policy}`,
    'sync:',
    '  retry_max_wait_seconds: 1',
    '  retry_attempts: 4',
    extra,
  ].join('\n'));
  const app = await openTestApp({ dataDir: dir, configPath: config });
  await app.vault.set(googleTokensSecret('work'), JSON.stringify(fake.issueTokens()));
  apps.push(app);
  return { app, dir, config };
}

async function fillTrip(app: App) {
  const f1 = await app.trips.addItem(undefined, flight('United Airlines', 'UA123', 'LAX', 'JFK', '2025-06-15T08:00', '2025-06-15T16:30'), { path: 'f' });
  const tripId = f1.trip.id;
  await app.trips.addItem(undefined, { kind: 'stay', details: { name: 'The Plaza', check_in: '2025-06-15', check_out: '2025-06-18' } }, { tripId, path: 's' });
  const tour = await app.trips.addItem(undefined, { kind: 'activity', details: { name: 'Harbor tour', start_time: '2025-06-16T10:00' } }, { tripId, path: 'a' });
  await app.trips.addItem(undefined, { kind: 'activity', details: { name: 'Hamilton', start_time: '2025-06-17T19:00' } }, { tripId, path: 'a' });
  await app.trips.addItem(undefined, flight('United Airlines', 'UA456', 'JFK', 'LAX', '2025-06-18T18:00', '2025-06-18T21:15'), { tripId, path: 'f' });
  return { tripId, tour: tour.item };
}

const ours = () => fake.liveEvents().filter((e) => e.extendedProperties?.private?.tripcal === '1');

/** Every desired event exactly once, with its current title and instants; nothing else of ours. */
async function expectConverged(app: App): Promise<void> {
  const desired = desiredEvents((await app.store.userItems('me')));
  const stored = ours();
  expect(stored.map((e) => e.extendedProperties.private.tripcal_key).sort()).toEqual(desired.map((d) => d.key).sort());
  for (const d of desired) {
    const s = stored.find((e) => e.extendedProperties.private.tripcal_key === d.key)!;
    expect(s.id).toBe(eventIdForKey(d.key));
    expect(s.summary).toBe(d.summary);
    expect(new Date(s.start.dateTime).toISOString().replace('.000Z', 'Z')).toBe(d.start.utc);
    expect(new Date(s.end.dateTime).toISOString().replace('.000Z', 'Z')).toBe(d.end.utc);
  }
}

const tourEvent = (tourId: string) => fake.calendar().events.get(eventIdForKey(`${tourId}:activity`))!;
const moveTour = { start: { dateTime: '2025-06-16T19:00:00Z', timeZone: 'America/New_York' }, end: { dateTime: '2025-06-16T20:00:00Z', timeZone: 'America/New_York' } };

describe('a shifted trip', () => {
  test('58 moved events go out in batches with no reads, also from a fresh process: at most 4 requests and 60 quota units', async () => {
    const { app: writer, dir, config } = (await setup());
    let app = writer;
    const first = await app.trips.addItem(undefined, { kind: 'stay', details: { name: 'Hotel 0', check_in: '2025-07-01', check_out: '2025-07-02' } }, { path: 's' });
    for (let i = 1; i < 29; i += 1) {
      const day = String(1 + i).padStart(2, '0');
      await app.trips.addItem(undefined, { kind: 'stay', details: { name: `Hotel ${i}`, check_in: `2025-07-${day}`, check_out: `2025-07-${day}T23:00` } }, { path: 's', tripId: first.trip.id });
    }
    const [made] = await app.sync.sync();
    expect(made).toMatchObject({ status: 'ok', counts: { created: 58 } });
    // The shift syncs from another process (the CLI after the daemon, say): it has read no event.
    await app.close();
    app = await openTestApp({ dataDir: dir, configPath: config });
    apps.push(app);
    await app.trips.shiftTrip(undefined, first.trip.id, Duration.fromISO('P1D'));
    const before = fake.requests.length;
    const [shifted] = await app.sync.sync();
    expect(shifted).toMatchObject({ status: 'ok', counts: { updated: 58, failed: 0 } });
    const seen = fake.requests.slice(before).filter((r) => !r.path.startsWith('/token'));
    const wire = seen.filter((r) => !r.part);
    const units = seen.filter((r) => r.part || r.path !== '/batch/calendar/v3');
    process.stderr.write(`shift_trip of 58 events: ${wire.length} requests, ${units.length} quota units\n`);
    expect(wire.length).toBeLessThanOrEqual(4);
    expect(units.length).toBeLessThanOrEqual(60);
    expect(seen.filter((r) => r.part && r.method === 'GET')).toEqual([]);
    await expectConverged(app);
  });
});

describe('a create whose answer was lost', () => {
  test('is found by its id and, since it matches already, not written a second time', async () => {
    const { app } = (await setup());
    await app.trips.addItem(undefined, { kind: 'activity', details: { name: 'Harbor tour', start_time: '2025-06-16T10:00', location: 'Pier 83' } }, { path: 'a' });
    // The answer of the first write (the POST) is lost, after the write took effect.
    fake.beforeWrite = () => {
      fake.loseNextAnswers(1);
      fake.beforeWrite = null;
    };
    const before = fake.requests.length;
    const [report] = await app.sync.sync();
    expect(report).toMatchObject({ status: 'ok', counts: { created: 1, failed: 0 } });
    const writes = fake.requests.slice(before).filter((r) => !r.path.startsWith('/token') && r.method !== 'GET').map((r) => r.method);
    // The first POST took effect; its retry meets 409 and a read shows it is ours and as wanted: no PUT or PATCH.
    expect(writes).toEqual(['POST', 'POST']);
    expect(fake.liveEvents()).toHaveLength(1);
    await expectConverged(app);
  });
});

describe('changes made in Google Calendar', () => {
  test('first sync writes every event; a quiet sync costs one request; one change costs two', async () => {
    const { app } = (await setup());
    const { tour } = (await fillTrip(app));
    const [first] = await app.sync.sync();
    expect(first).toMatchObject({ status: 'ok', counts: { created: 6 } });
    await expectConverged(app);
    expect((await app.sync.sync())[0]).toMatchObject({ requests: 1, counts: { unchanged: 6 } });
    await app.trips.updateItem(undefined, tour.id, { changes: { location: 'Pier 84' } });
    const before = fake.requests.filter((r) => !r.path.startsWith('/token')).length;
    expect((await app.sync.sync())[0]).toMatchObject({ requests: 2, counts: { updated: 1 } });
    // Counted by the fake, not by tripcal: one incremental read and one PATCH, no read before the write.
    const wire = fake.requests.filter((r) => !r.path.startsWith('/token')).slice(before);
    expect(wire.map((r) => r.method)).toEqual(['GET', 'PATCH']);
    await expectConverged(app);
  });

  test('all-day activities are date events (end date exclusive); stays are transparent; reminders as the model says', async () => {
    const { app } = (await setup());
    const { tripId } = (await fillTrip(app));
    const fair = await app.trips.addItem(undefined, { kind: 'activity', details: { name: 'Book fair', start_time: '2025-06-16', end_time: '2025-06-17' } }, { tripId, path: 'a' });
    await app.sync.sync();
    const event = fake.calendar().events.get(eventIdForKey(`${fair.item.id}:activity`))!.data;
    expect(event.start).toEqual({ date: '2025-06-16' });
    expect(event.end).toEqual({ date: '2025-06-18' });
    const checkIn = ours().find((e) => e.summary.startsWith('Check-in'))!;
    expect(checkIn.transparency).toBe('transparent');
    expect((await app.sync.sync())[0]!.counts).toMatchObject({ unchanged: 7, updated: 0 });
  });

  test('model_wins: a moved event is moved back', async () => {
    const { app } = (await setup('model_wins'));
    const { tour } = (await fillTrip(app));
    await app.sync.sync();
    fake.editAsUser(tourEvent(tour.id).data.id, moveTour);
    expect((await app.sync.sync())[0]!.counts).toMatchObject({ updated: 1, unchanged: 5 });
    await expectConverged(app);
  });

  test('remote_wins: the moved time is taken into the model', async () => {
    const { app } = (await setup('remote_wins'));
    const { tour } = (await fillTrip(app));
    await app.sync.sync();
    fake.editAsUser(tourEvent(tour.id).data.id, moveTour);
    expect((await app.sync.sync())[0]!.counts.pulled).toBe(1);
    const item = (await app.store.userItems('me')).find((i) => i.id === tour.id)!;
    expect(item.startUtc).toBe('2025-06-16T19:00:00Z');
    expect((await app.sync.sync())[0]!.counts).toMatchObject({ updated: 0, pulled: 0 });
    await expectConverged(app);
  });

  test('flag: the event is marked a conflict, untouched, with both versions in sync_status', async () => {
    const { app } = (await setup('flag'));
    const { tour } = (await fillTrip(app));
    await app.sync.sync();
    fake.editAsUser(tourEvent(tour.id).data.id, moveTour);
    expect((await app.sync.sync())[0]!.counts.conflicts).toBe(1);
    const [status] = await syncStatus(app.store, app.sync);
    expect(status!.conflicts[0]!.model!.start.utc).toBe('2025-06-16T14:00:00Z');
    expect(status!.conflicts[0]!.calendar!.start.utc).toBe('2025-06-16T19:00:00Z');
    expect(tourEvent(tour.id).data.start.dateTime).toBe('2025-06-16T19:00:00Z');
  });

  test.each(['model_wins', 'remote_wins', 'flag'])('%s: an edit that lands between our listing and our write gets a 412 and is decided by the policy', async (policy) => {
    const { app } = (await setup(policy));
    const { tour } = (await fillTrip(app));
    await app.sync.sync();
    const id = tourEvent(tour.id).data.id;
    await app.trips.updateItem(undefined, tour.id, { changes: { name: 'Harbor tour (sunset)' } });
    let slipped = false;
    fake.beforeWrite = (method, eventId) => {
      if (!slipped && eventId === id) {
        slipped = true;
        fake.editAsUser(id, moveTour);
      }
    };
    const [report] = await app.sync.sync();
    expect(slipped).toBe(true);
    expect(fake.requests.some((r) => r.method === 'GET' && r.path.endsWith(`/events/${id}`))).toBe(true);
    const event = tourEvent(tour.id).data;
    const item = (await app.store.userItems('me')).find((i) => i.id === tour.id)!;
    if (policy === 'model_wins') {
      expect(event.start.dateTime).toBe('2025-06-16T14:00:00Z');
      expect(event.summary).toBe('Harbor tour (sunset)');
    } else if (policy === 'remote_wins') {
      expect(item.startUtc).toBe('2025-06-16T19:00:00Z');
      expect(event.summary).toBe('Harbor tour (sunset)');
      expect(event.start.dateTime).toBe('2025-06-16T19:00:00Z');
    } else {
      expect(report!.counts.conflicts).toBe(1);
      expect(event.start.dateTime).toBe('2025-06-16T19:00:00Z');
    }
  });

  test.each(['model_wins', 'remote_wins', 'flag'])('%s: an event deleted in Google is reported, not recreated, until its item changes (then restored, not duplicated)', async (policy) => {
    const { app } = (await setup(policy));
    const { tour } = (await fillTrip(app));
    await app.sync.sync();
    fake.deleteAsUser(tourEvent(tour.id).data.id);
    const [report] = await app.sync.sync();
    expect(report!.gone).toEqual([`${tour.id}:activity`]);
    expect((await app.sync.sync())[0]!.counts.created).toBe(0);
    expect(ours()).toHaveLength(5);
    await app.trips.updateItem(undefined, tour.id, { changes: { location: 'Pier 84' } });
    expect((await app.sync.sync())[0]!.counts.created).toBe(1);
    expect(ours()).toHaveLength(6);
    expect(tourEvent(tour.id).data.location).toBe('Pier 84');
  });

  test('a sync token that expires (410) leads to a full listing: nothing duplicated, nothing deleted', async () => {
    const { app } = (await setup());
    const { tour } = (await fillTrip(app));
    await app.sync.sync();
    await app.trips.updateItem(undefined, tour.id, { changes: { location: 'Pier 84' } });
    fake.expireSyncTokens();
    const [report] = await app.sync.sync();
    expect(report).toMatchObject({ status: 'ok', counts: { updated: 1, created: 0, deleted: 0, unchanged: 5 } });
    const lists = fake.requests.filter((r) => r.path.endsWith('/events') && r.method === 'GET').slice(-2);
    expect(lists[0]!.query.has('syncToken')).toBe(true);
    expect(lists[1]!.query.getAll('privateExtendedProperty')).toEqual(['tripcal=1']);
    await expectConverged(app);
  });

  test('the access token expires during a sync: refreshed once, written back to the vault, the sync completes', async () => {
    const { app } = (await setup());
    await fillTrip(app);
    const before = await app.vault.get(googleTokensSecret('work'));
    fake.afterWrite = () => {
      fake.afterWrite = null;
      fake.expireAccessTokens();
    };
    const refreshes = fake.tokenRequests.length;
    const [report] = await app.sync.sync();
    expect(report!.status).toBe('ok');
    expect(fake.tokenRequests.length - refreshes).toBe(1);
    const after = JSON.parse((await app.vault.get(googleTokensSecret('work')))!);
    expect(after.access_token).not.toBe(JSON.parse(before!).access_token);
    expect(after.refresh_token).toBe(JSON.parse(before!).refresh_token);
    await expectConverged(app);
  });

  test('connected again elsewhere: the running process neither writes its old tokens back nor keeps using them', async () => {
    const { app } = (await setup());
    await fillTrip(app);
    await app.sync.sync();
    // Another process (`tripcal auth google work`) stores a new authorization…
    const fresh = fake.issueTokens();
    await app.vault.set(googleTokensSecret('work'), JSON.stringify(fresh));
    // …while this one's old provider refreshes its old token.
    fake.expireAccessTokens();
    const refreshesBefore = fake.tokenRequests.length;
    const [report] = await app.sync.sync();
    expect(report!.status).toBe('ok');
    // The provider was built again from the vault (the new refresh token), and the vault still holds it.
    expect(fake.tokenRequests.slice(refreshesBefore).map((f) => f.get('refresh_token'))).toEqual([fresh.refresh_token]);
    expect(JSON.parse((await app.vault.get(googleTokensSecret('work')))!).refresh_token).toBe(fresh.refresh_token);
  });

  test('a provider built before a reconnect cannot overwrite the new tokens when it refreshes (compare and set)', async () => {
    const { app } = (await setup());
    const { providerSettings } = await import('../../src/sync/accounts.js');
    const settings = await providerSettings(await app.sync.account('work'), app.vault, app.config);
    if (settings.kind !== 'google') throw new Error('expected google settings');
    const old = settings.tokens;
    const fresh = fake.issueTokens();
    await app.vault.set(googleTokensSecret('work'), JSON.stringify(fresh));
    await settings.saveTokens({ ...old, access_token: 'ya29.refreshed-old' });
    expect(JSON.parse((await app.vault.get(googleTokensSecret('work')))!)).toEqual(fresh);
    // Its own refreshes go through while nobody else changed the vault.
    const again = await providerSettings(await app.sync.account('work'), app.vault, app.config);
    if (again.kind !== 'google') throw new Error('expected google settings');
    await again.saveTokens({ ...fresh, access_token: 'ya29.refreshed-new' });
    expect(JSON.parse((await app.vault.get(googleTokensSecret('work')))!).access_token).toBe('ya29.refreshed-new');
  });

  test('a revoked refresh token: needs_reauth with a fix; other accounts and the model go on', async () => {
    const { app } = (await setup());
    await fillTrip(app);
    await app.sync.sync();
    fake.revokeRefreshTokens();
    const [report] = await app.sync.sync();
    expect(report!.status).toBe('needs_reauth');
    expect(report!.message).toMatch(/invalid_grant.*tripcal auth google work/);
    await app.vault.set(googleTokensSecret('work'), JSON.stringify(fake.issueTokens()));
    app.sync.reconnect('work');
    expect((await app.sync.sync())[0]!.status).toBe('ok');
  });
});

describe('faults', () => {
  test('20 % of requests fail (429 with Retry-After, 403 rateLimitExceeded, 500, 503) or lose their answer: converges, no duplicates', async () => {
    const { app } = (await setup('model_wins', '  concurrency: 4'));
    await fillTrip(app);
    for (let i = 0; i < 20; i++) {
      await app.trips.addItem(undefined, { kind: 'activity', details: { name: `Museum ${i}`, start_time: `2025-06-${String(10 + (i % 9)).padStart(2, '0')}T${String(8 + (i % 10)).padStart(2, '0')}:00` } }, { path: 'a' });
    }
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    fake.randomFaults = {
      rate: 0.2,
      random,
      faults: [{ status: 429, retryAfter: '0' }, { status: 403, reason: 'rateLimitExceeded' }, { status: 403, reason: 'userRateLimitExceeded' }, { status: 500 }, { status: 503 }],
    };
    fake.loseNextAnswers(2);
    const faultsBefore = fake.faultsServed;
    await syncUntilSettled(app);
    fake.randomFaults = null;
    expect(fake.faultsServed - faultsBefore).toBeGreaterThan(4);
    const [final] = await app.sync.sync();
    expect(final).toMatchObject({ status: 'ok', counts: { created: 0, updated: 0, deleted: 0 } });
    await expectConverged(app);
  });

  test('under a per-user quota (every batch part counts, 403 rateLimitExceeded past it) a sync backs off and converges', async () => {
    const { app } = (await setup('model_wins', '  concurrency: 4'));
    await fillTrip(app);
    for (let i = 0; i < 12; i++) {
      await app.trips.addItem(undefined, { kind: 'activity', details: { name: `Gallery ${i}`, start_time: `2025-06-${String(10 + (i % 9)).padStart(2, '0')}T${String(8 + (i % 10)).padStart(2, '0')}:00` } }, { path: 'a' });
    }
    const saved = fake.quota;
    fake.quota = { perMinute: 6, status: 403, windowMs: 250 };
    fake.resetQuota();
    const refusedBefore = fake.quotaRefusals;
    try {
      const last = await syncUntilSettled(app);
      expect(fake.quotaRefusals - refusedBefore).toBeGreaterThan(0);
      expect(last.status).toBe('ok');
    } finally {
      fake.quota = saved;
      fake.resetQuota();
    }
    await expectConverged(app);
  });

  /** Three updates, two deletes and two creates for one sync. */
  async function editMany(app: App): Promise<void> {
    const items = (await app.store.userItems('me'));
    const change = { flight: { seat: '1A' }, stay: { notes: 'late arrival' }, activity: { location: 'Pier 86' } };
    for (const item of items.slice(0, 3)) await app.trips.updateItem(undefined, item.id, { changes: change[item.kind] });
    for (const item of items.slice(3, 5)) await app.trips.deleteItem(undefined, item.id, 'item_id');
    await app.trips.addItem(undefined, { kind: 'activity', details: { name: 'Jazz', start_time: '2025-06-17T22:00' } }, { path: 'a' });
    await app.trips.addItem(undefined, { kind: 'activity', details: { name: 'Brunch', start_time: '2025-06-18T10:00' } }, { path: 'a' });
  }

  test.each([
    ['a first sync', 1], ['a first sync', 3], ['a first sync', 6],
    ['an edit sync', 1], ['an edit sync', 2], ['an edit sync', 4], ['an edit sync', 7],
  ] as const)('`tripcal sync` killed (SIGKILL) during %s right after write %i converges on the next run', async (phase, n) => {
    const s = await setup('model_wins', '  concurrency: 1');
    await fillTrip(s.app);
    if (phase === 'an edit sync') {
      expect((await s.app.sync.sync())[0]!.status).toBe('ok');
      await editMany(s.app);
    }
    const killed = await syncKilledAfterWrite(fake, s.config, s.dir, n);
    expect(killed).toBe(true);
    s.app.sync.reconnect('work');
    const [report] = await s.app.sync.sync();
    expect(report!.status).toBe('ok');
    await expectConverged(s.app);
    const [again] = await s.app.sync.sync();
    expect(again!.counts).toMatchObject({ created: 0, updated: 0, deleted: 0 });
  });
});
