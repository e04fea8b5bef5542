// Issue 18: what the 2026-07-28 protocol adds, through both real SDK clients whatever
// TRIPCAL_MCP_CLIENT says: the v2 client on 2026-07-28 and the 1.x client on 2025-11-25.
// - sync_now stopped by the mass-delete guard asks the person (elicitation) and does what they
//   answer; a client that cannot be asked gets the plain answer naming allow_mass_delete.
// - a trip's resources change when the trip does: a client watching them hears it, over stdio
//   (both eras) and over HTTP (2026-07-28: subscriptions/listen).
// - server/discover and the lists carry cache hints; the tool list is in a fixed order.
// Remote state is read from Radicale itself.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { caldavConfig, deleteObject, listStored } from '../support/caldav.js';
import type { Era } from '../support/clients.js';
import { startFaultProxy } from '../support/faultproxy.js';
import { startGoogleFake } from '../support/google-fake.js';
import { connectHttp, startDaemonProcess, type RunningDaemon } from '../support/daemon.js';
import { connect, structured, tempDir, type Connected } from '../support/mcp.js';
import { freePort, startRadicale, type Radicale } from '../support/radicale.js';

let radicale: Radicale;
const running: RunningDaemon[] = [];
beforeAll(async () => {
  radicale = await startRadicale();
});
afterAll(async () => {
  for (const d of running) await d.stop('SIGKILL');
  await radicale?.stop();
});

const ERAS: Era[] = ['modern', 'legacy'];

/** A data directory whose account owns `n` events in its own Radicale calendar. */
function setup(calendar: string) {
  const dir = tempDir();
  const config = caldavConfig(dir, radicale, { calendar, sync: '  min_guarded_deletes: 1' });
  return { dir, config, collection: `/${radicale.username}/${calendar.toLowerCase()}/` };
}

async function addActivities(server: { call: Connected['call'] }, n: number): Promise<string> {
  let tripId = '';
  for (let i = 0; i < n; i++) {
    const out = structured(await server.call('add_activity', { activity_details: { name: `Walk ${i}`, start_time: `2026-05-0${i + 1}T10:00`, timezone: 'Europe/Berlin' } }));
    tripId = out.trip_id;
  }
  return tripId;
}

/** Someone empties the calendar, and tripcal has to list it whole (no sync token to go by). */
async function emptyCalendar(dir: string, collection: string): Promise<void> {
  for (const e of await listStored(radicale, collection)) await deleteObject(radicale, new URL(e.href, radicale.url).pathname);
  const db = (await import('better-sqlite3')).default;
  const conn = new db(join(dir, 'tripcal.db'));
  conn.prepare('UPDATE accounts SET cursor = NULL').run();
  conn.close();
}

describe.each(ERAS)('the mass-delete guard asks (%s client over stdio)', (era) => {
  test('answered "recreate": the events come back; "go_ahead": they stay deleted; "stop": nothing changes', async () => {
    const { dir, config, collection } = setup(`Guard${era}`);
    const asked: string[] = [];
    const answers = ['recreate', 'stop', 'go_ahead'];
    const server = await connect({ dataDir: dir, args: ['--config', config], capabilities: { elicitation: { form: {} } }, era });
    try {
      server.client.onElicit((params) => {
        asked.push(params.message);
        expect(params.requestedSchema).toMatchObject({ type: 'object', properties: { decision: { enum: ['go_ahead', 'recreate', 'stop'] } } });
        return { action: 'accept', content: { decision: answers.shift() } };
      });
      await addActivities(server, 3);
      expect(await listStored(radicale, collection)).toHaveLength(3);

      await emptyCalendar(dir, collection);
      const recreated = structured(await server.call('sync_now', {}));
      expect(asked).toHaveLength(1);
      expect(asked[0]).toMatch(/without any of our 3 events/);
      expect(recreated).toMatchObject({ success: true, accounts: [{ account: 'home', status: 'ok', counts: { created: 3 } }] });
      expect(await listStored(radicale, collection)).toHaveLength(3);

      await emptyCalendar(dir, collection);
      const stopped = structured(await server.call('sync_now', {}));
      expect(asked).toHaveLength(2);
      expect(stopped).toMatchObject({ success: false, message: expect.stringMatching(/Stopped as you asked/) });
      expect(await listStored(radicale, collection)).toHaveLength(0);

      const accepted = structured(await server.call('sync_now', {}));
      expect(asked).toHaveLength(3);
      expect(accepted).toMatchObject({ success: true, accounts: [{ status: 'ok', counts: { created: 0 } }] });
      expect(await listStored(radicale, collection)).toHaveLength(0);
      const status = structured(await server.call('sync_status', {}));
      expect(status.accounts[0].gone).toHaveLength(3);
    } finally {
      await server.close();
    }
  });

  test('a client that declared no elicitation is not asked: the plain answer names allow_mass_delete', async () => {
    const { dir, config, collection } = setup(`Plain${era}`);
    const server = await connect({ dataDir: dir, args: ['--config', config], era });
    try {
      await addActivities(server, 2);
      await emptyCalendar(dir, collection);
      const out = structured(await server.call('sync_now', {}));
      expect(out).toMatchObject({ success: false, accounts: [{ status: 'guarded', message: expect.stringMatching(/allow_mass_delete/) }] });
      expect(await listStored(radicale, collection)).toHaveLength(0);
    } finally {
      await server.close();
    }
  });
});

describe.each(ERAS)('two calendars of one name (%s client over stdio, Google fake)', (era) => {
  test.each([true, false])('handle_auth_callback asks which one (client can be asked: %s), and the trips go to the one picked', async (canAsk) => {
    const fake = await startGoogleFake();
    try {
      fake.addCalendar({ id: 'trips-old@group.calendar.google.com', summary: 'Trips', timeZone: 'Europe/Berlin', accessRole: 'owner' });
      fake.addCalendar({ id: 'trips-new@group.calendar.google.com', summary: 'Trips', timeZone: 'Europe/Berlin', accessRole: 'writer' });
      fake.addCalendar({ id: 'trips-shared@group.calendar.google.com', summary: 'Trips', timeZone: 'Europe/Berlin', accessRole: 'reader' });
      const dir = tempDir();
      const config = join(dir, 'config.yaml');
      writeFileSync(config, ['google:', `  client_id: ${fake.clientId}`, `  client_secret: ${fake.clientSecret}`, `  auth_url: ${fake.url}/o/oauth2/v2/auth`,
        `  token_url: ${fake.url}/token`, `  api_root: ${fake.url}/`, ''].join('\n'));
      const server = await connect({ dataDir: dir, args: ['--config', config], capabilities: canAsk ? { elicitation: { form: {} } } : {}, era });
      try {
        const offered: unknown[] = [];
        if (canAsk) server.client.onElicit((params) => {
          offered.push((params.requestedSchema as { properties: { calendar: { enum: string[] } } }).properties.calendar.enum);
          return { action: 'accept', content: { calendar: 'trips-new@group.calendar.google.com' } };
        });
        structured(await server.call('add_activity', { activity_details: { name: 'Opera', start_time: '2026-09-01T19:00', timezone: 'Europe/Berlin' } }));
        const started = structured(await server.call('authorize_calendar', { redirect_uri: 'https://tripcal.example/cb', calendar: 'Trips' }));
        const back = new URL((await fetch(started.auth_url, { redirect: 'manual' })).headers.get('location')!);
        const done = structured(await server.call('handle_auth_callback', { code: back.searchParams.get('code'), state: back.searchParams.get('state') }));
        const summaries = (id: string) => [...fake.calendars.get(id)!.events.values()].map((e) => (e.data as { summary?: string }).summary);
        expect(done.sync.status).toBe('synced');
        if (canAsk) {
          // Only the calendars it may write to are offered, the shared read-only one is not.
          expect(offered).toEqual([['trips-old@group.calendar.google.com', 'trips-new@group.calendar.google.com']]);
          expect(done.calendars.find((c: { selected: boolean }) => c.selected).id).toBe('trips-new@group.calendar.google.com');
          expect(summaries('trips-new@group.calendar.google.com')).toEqual(['Opera']);
          expect(summaries('trips-old@group.calendar.google.com')).toEqual([]);
        } else {
          // Not asked: the first one, and the answer says so, with the ids to pick another.
          expect(offered).toEqual([]);
          expect(done.message).toMatch(/2 calendars are named like it \(trips-old@group\.calendar\.google\.com, trips-new@group\.calendar\.google\.com\)/);
          expect(summaries('trips-old@group.calendar.google.com')).toEqual(['Opera']);
        }
      } finally {
        await server.close();
      }
    } finally {
      await fake.stop();
    }
  });
});

describe.each(ERAS)('resource change notices (%s client over stdio)', (era) => {
  test('a watched trip\'s itinerary is said to change when the trip does; another trip\'s is not', async () => {
    const dir = tempDir();
    const server = await connect({ dataDir: dir, era });
    try {
      const tripId = structured(await server.call('create_trip', { title: 'Lisbon' })).trip_id;
      const otherId = structured(await server.call('create_trip', { title: 'Porto' })).trip_id;
      // Edits are told in bursts: let the one that made the two trips go by.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const heard: string[] = [];
      const watched = `tripcal://trips/${tripId}/itinerary`;
      const stop = await server.client.watch([watched, `tripcal://trips/${otherId}/itinerary`], (uri) => heard.push(uri));
      structured(await server.call('add_activity', { trip_id: tripId, activity_details: { name: 'Tram 28', start_time: '2026-05-01T10:00', timezone: 'Europe/Lisbon' } }));
      await until(() => heard.includes(watched));
      expect(heard).not.toContain(`tripcal://trips/${otherId}/itinerary`);
      const read = await server.client.readResource({ uri: watched });
      expect(read.contents[0].text).toContain('Tram 28');
      await stop();
    } finally {
      await server.close();
    }
  });
});

describe.each(ERAS)('cancellation (%s client over stdio)', (era) => {
  test('a cancelled sync_now stops: writes in flight finish, the rest stays pending and a later sync finishes it', async () => {
    const dir = tempDir();
    // Every answer of the calendar comes 150 ms late, so the cancel arrives between two writes.
    const proxy = await startFaultProxy(radicale.url, { rate: 1, faults: ['delay'] });
    try {
      const config = caldavConfig(dir, radicale, { calendar: `Cancel${era}`, url: `${proxy.url}/`, sync: '  on_edit: false\n  concurrency: 1' });
      const server = await connect({ dataDir: dir, args: ['--config', config], era });
      try {
        await addActivities(server, 8);
        const cancel = new AbortController();
        proxy.afterWrite = (count) => {
          if (count === 2) cancel.abort();
        };
        await expect(server.client.callTool({ name: 'sync_now', arguments: {} }, { signal: cancel.signal })).rejects.toThrow(/abort|cancel/i);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const written = (await listStored(radicale, `/${radicale.username}/cancel${era}/`)).length;
        expect(written).toBeGreaterThanOrEqual(2);
        expect(written).toBeLessThan(8);
        const status = structured(await server.call('sync_status', {}));
        expect(status.accounts[0].pending).toBe(8 - written);
        proxy.afterWrite = null;
        const rest = structured(await server.call('sync_now', {}));
        expect(rest.accounts[0]).toMatchObject({ status: 'ok', counts: { created: 8 - written } });
        expect(await listStored(radicale, `/${radicale.username}/cancel${era}/`)).toHaveLength(8);
      } finally {
        await server.close();
      }
    } finally {
      await proxy.stop();
    }
  }, 60_000);
});

describe('over HTTP', () => {
  let daemon: RunningDaemon;
  beforeAll(async () => {
    const dir = tempDir();
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `log_level: warn\nhttp:\n  listen: 127.0.0.1:${await freePort()}\n`);
    daemon = await startDaemonProcess(['--config', config, '--data-dir', dir]);
    running.push(daemon);
  });

  test('2026-07-28: a subscriptions/listen stream hears that a trip changed', async () => {
    const watcher = await connectHttp(daemon.mcpUrl, {}, { era: 'modern' });
    const editor = await connectHttp(daemon.mcpUrl, {}, { era: 'legacy' });
    try {
      const tripId = structured(await editor.call('create_trip', { title: 'Oslo' })).trip_id;
      const heard: string[] = [];
      const uri = `tripcal://trips/${tripId}`;
      const stop = await watcher.client.watch([uri], (u) => heard.push(u));
      structured(await editor.call('add_activity', { trip_id: tripId, activity_details: { name: 'Fjord cruise', start_time: '2026-06-01T10:00', timezone: 'Europe/Oslo' } }));
      await until(() => heard.includes(uri));
      await stop();
    } finally {
      await watcher.close();
      await editor.close();
    }
  });

  test('a 2025-11-25 client over stateless HTTP is never asked mid-call: it gets the plain answer', async () => {
    const { dir, config, collection } = setup('HttpGuard');
    writeFileSync(config, `${readFileSync(config, 'utf8')}log_level: warn\nhttp:\n  listen: 127.0.0.1:${await freePort()}\n`);
    const d = await startDaemonProcess(['--config', config, '--data-dir', dir], { TEST_CALDAV_PASSWORD: radicale.password });
    running.push(d);
    const client = await connectHttp(d.mcpUrl, {}, { era: 'legacy', capabilities: { elicitation: { form: {} } } });
    let asked = 0;
    client.client.onElicit(() => {
      asked++;
      return { action: 'accept', content: { decision: 'go_ahead' } };
    });
    try {
      await addActivities(client, 2);
      await emptyCalendar(dir, collection);
      const out = structured(await client.call('sync_now', {}));
      expect(asked).toBe(0);
      expect(out).toMatchObject({ success: false, accounts: [{ status: 'guarded', message: expect.stringMatching(/allow_mass_delete/) }] });
    } finally {
      await client.close();
    }
  });

  test('server/discover and the lists carry cache hints; tools come in a fixed order', async () => {
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
    const post = async (method: string) => {
      const res = await fetch(daemon.mcpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': method },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: { _meta: meta } }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('mcp-session-id')).toBeNull();
      return ((await res.json()) as { result: Record<string, any> }).result;
    };
    const discover = await post('server/discover');
    expect(discover.supportedVersions).toContain('2026-07-28');
    expect(discover).toMatchObject({ ttlMs: 3_600_000, cacheScope: 'public' });
    const tools = await post('tools/list');
    expect(tools).toMatchObject({ ttlMs: 3_600_000, cacheScope: 'public' });
    const again = await post('tools/list');
    expect(again.tools.map((t: { name: string }) => t.name)).toEqual(tools.tools.map((t: { name: string }) => t.name));
    expect(await post('resources/list')).toMatchObject({ ttlMs: 5_000, cacheScope: 'private' });
  });
});

async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
