// The daemon end to end: the built `tripcal daemon` process, the SDK's Client over Streamable
// HTTP, a real Radicale. Edits reach the calendar through the scheduled sync alone; the feed is
// subscribable (independent parser, ETag / 304, 404 for a wrong token); the HTTP side refuses
// what it must; SIGTERM during a sync loses nothing and a restart finishes the work; one daemon
// per data directory; SIGHUP reloads the accounts.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ICAL from 'ical.js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { openApp } from '../../src/app.js';
import { desiredEvents } from '../../src/events/desired.js';
import { caldavConfig, deleteObject, listStored } from '../support/caldav.js';
import { connectHttp, startDaemonProcess, type RunningDaemon } from '../support/daemon.js';
import { startFaultProxy } from '../support/faultproxy.js';
import { CLI, connect, structured, tempDir } from '../support/mcp.js';
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

async function daemon(dir: string, config: string): Promise<RunningDaemon> {
  const d = await startDaemonProcess(['--config', config, '--data-dir', dir], { TEST_CALDAV_PASSWORD: radicale.password });
  running.push(d);
  return d;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('an edit over HTTP reaches Radicale through the scheduled sync alone; sync_status shows the schedule', async () => {
  const dir = tempDir();
  const port = await freePort();
  const config = caldavConfig(dir, radicale, {
    calendar: 'Daemon', sync: ['  schedule: "*/2 * * * * *"', '  jitter_seconds: 0', '  on_edit: false', 'http:', `  listen: 127.0.0.1:${port}`].join('\n'),
  });
  const d = await daemon(dir, config);
  expect(d.mcpUrl).toBe(`http://127.0.0.1:${port}/mcp`);
  expect(d.stdout()).toMatch(/subscribe: webcal:\/\/127\.0\.0\.1:\d+\/feeds\/[A-Za-z0-9_-]{43}\.ics/);
  const http = await connectHttp(d.mcpUrl);
  try {
    const added = structured(await http.call('add_activity', { activity_details: { name: 'Harbor tour', start_time: '2025-06-16T10:00', timezone: 'America/New_York' } }));
    expect(added.sync.status).toBe('pending');
    expect(added.event_details.calendar_link).toBe(d.feeds.me);
    const stored = await until('the scheduled sync', async () => {
      const events = await listStored(radicale, `/${radicale.username}/daemon/`);
      return events.length === 1 && events;
    });
    expect(stored[0]!.summary).toBe('Harbor tour');
    const status = structured(await http.call('sync_status', {}));
    expect(status.schedule).toMatchObject({ expression: '*/2 * * * * *', timezone: 'Europe/Berlin', jitter_seconds: 0 });
    expect(Date.parse(status.schedule.next_run)).toBeGreaterThan(Date.now() - 1000);
    expect(status.accounts[0]).toMatchObject({ account: 'home', state: 'ok', pending: 0 });

    // sync_now over HTTP sends progress notifications: put back events deleted in the calendar
    // (which only sync_now with recreate does, never the schedule).
    for (let i = 0; i < 3; i++) structured(await http.call('add_activity', { activity_details: { name: `Museum ${i}`, start_time: `2025-06-1${7 + i}T10:00` } }));
    const museums = await until('the museums on the schedule', async () => {
      const events = (await listStored(radicale, `/${radicale.username}/daemon/`)).filter((e) => e.summary.startsWith('Museum'));
      return events.length === 3 && events;
    });
    for (const m of museums) expect((await deleteObject(radicale, new URL(m.href, radicale.url).pathname)).status).toBeLessThan(300);
    const progress: number[] = [];
    const now = await http.client.callTool({ name: 'sync_now', arguments: { recreate: true } }, { onprogress: (p) => progress.push(p.progress) });
    expect(now.structuredContent).toMatchObject({ success: true, accounts: [{ account: 'home', counts: { created: 3 } }] });
    expect(progress.length).toBeGreaterThanOrEqual(3);
    const health = await (await fetch(d.healthUrl)).json();
    expect(health).toMatchObject({ status: 'ok', database: 'ok', accounts: [{ account: 'home', state: 'ok' }] });
  } finally {
    await http.close();
  }
  expect(await d.stop()).toBe(0);
  expect(d.stderr()).not.toMatch(/"level":"error"/);
});

test('the feed: text/calendar that an independent parser reads, 304 with its ETag, 404 for a wrong token', async () => {
  const dir = tempDir();
  const port = await freePort();
  writeFileSync(join(dir, 'config.yaml'), `users:\n  me:\n    timezone: Europe/Paris\nhttp:\n  listen: 127.0.0.1:${port}\n`);
  const d = await daemon(dir, join(dir, 'config.yaml'));
  const http = await connectHttp(d.mcpUrl);
  structured(await http.call('add_flight', { flight_details: { airline: 'Air France', flight_number: 'AF6', departure_airport: 'CDG', arrival_airport: 'JFK', departure_time: '2025-07-01T10:30', arrival_time: '2025-07-01T13:05' } }));
  await http.close();
  const feed = d.feeds.me!;
  const first = await until('the feed with the flight', async () => {
    const res = await fetch(feed);
    const text = await res.text();
    return text.includes('AF6') && { res, text };
  });
  expect(first.res.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
  const vevent = new ICAL.Component(ICAL.parse(first.text)).getFirstSubcomponent('vevent')!;
  expect(vevent.getFirstPropertyValue('summary')).toContain('AF6');
  expect((vevent.getFirstProperty('dtstart')!.getParameter('tzid'))).toBe('Europe/Paris');
  const etag = first.res.headers.get('etag')!;
  const again = await fetch(feed, { headers: { 'if-none-match': etag } });
  expect(again.status).toBe(304);
  expect(await again.text()).toBe('');
  const wrong = await fetch(feed.replace(/\/feeds\/.{8}/, '/feeds/AAAAAAAA'));
  expect(wrong.status).toBe(404);
  await d.stop();
});

test('off loopback a token is required (or it refuses to start); a forbidden Origin or Host gets 403', async () => {
  const dir = tempDir();
  const port = await freePort();
  const config = join(dir, 'config.yaml');
  writeFileSync(config, `http:\n  listen: 0.0.0.0:${port}\n`);
  const refused = spawnSync(process.execPath, [CLI, 'daemon', '--config', config, '--data-dir', dir], { encoding: 'utf8', timeout: 20_000 });
  expect(refused.status).toBe(2);
  expect(refused.stderr).toMatch(/http\.listen: 0\.0\.0\.0:\d+ can be reached from other machines, so http\.token must be set/);

  const token = 'a-very-secret-token-0123456789';
  writeFileSync(config, `http:\n  listen: 0.0.0.0:${port}\n  token: \${TEST_HTTP_TOKEN}\n`);
  const d = await startDaemonProcess(['--config', config, '--data-dir', dir], { TEST_HTTP_TOKEN: token });
  running.push(d);
  const url = `http://127.0.0.1:${port}/mcp`;
  // The 1.x client shows the body of the 401, the v2 client its status.
  await expect(connectHttp(url)).rejects.toThrow(/a bearer token is required|requires authorization \(HTTP 401\)/);
  expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(401);
  expect((await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
  const http = await connectHttp(url, { authorization: `Bearer ${token}` });
  expect(structured(await http.call('list_trips', {})).trips).toEqual([]);
  await http.close();
  const cross = await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { authorization: `Bearer ${token}`, origin: 'https://evil.example' } });
  expect(cross.status).toBe(403);
  await d.stop();
  expect(d.stderr()).not.toContain(token);

  // On loopback, a Host that is not ours (DNS rebinding) is refused.
  const local = tempDir();
  const port2 = await freePort();
  writeFileSync(join(local, 'config.yaml'), `http:\n  listen: 127.0.0.1:${port2}\n`);
  const l = await daemon(local, join(local, 'config.yaml'));
  const rebound = await new Promise<number>((resolve) => {
    void import('node:http').then(({ request }) => {
      const req = request({ host: '127.0.0.1', port: port2, path: '/healthz', headers: { host: `attacker.example:${port2}` } }, (res) => resolve(res.statusCode!));
      req.end();
    });
  });
  expect(rebound).toBe(403);
  await l.stop();
});

test('SIGTERM during a sync: clean exit, nothing lost; the restarted daemon finishes the work. One daemon per data dir; serve may run beside it', async () => {
  const proxy = await startFaultProxy(radicale.url, { rate: 1, faults: ['delay'] });
  try {
    const dir = tempDir();
    const port = await freePort();
    const config = caldavConfig(dir, radicale, {
      calendar: 'Shutdown', url: `${proxy.url}/`,
      sync: ['  schedule: "0 0 1 1 *"', '  on_edit: false', '  concurrency: 1', 'http:', `  listen: 127.0.0.1:${port}`].join('\n'),
    });
    const app = await openApp({ dataDir: dir, configPath: config });
    for (let i = 0; i < 30; i++) {
      await app.trips.addItem(undefined, { kind: 'activity', details: { name: `Talk ${i}`, start_time: `2025-09-0${1 + (i % 5)}T${String(8 + (i % 12)).padStart(2, '0')}:${String(i).padStart(2, '0')}` } }, { path: 'a' });
    }
    await app.close();
    const d = await daemon(dir, config);

    // A second daemon on the same data dir refuses; a stdio server beside it works.
    const second = spawnSync(process.execPath, [CLI, 'daemon', '--config', config, '--data-dir', dir], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, TEST_CALDAV_PASSWORD: radicale.password } });
    expect(second.status).not.toBe(0);
    expect(second.stderr).toMatch(/another tripcal daemon \(pid \d+\) is running/);
    const stdio = await connect({ dataDir: dir, args: ['--config', config], env: { TEST_CALDAV_PASSWORD: radicale.password } });
    expect(structured(await stdio.call('list_trips', {})).trips.length).toBeGreaterThan(0);
    await stdio.close();

    const http = await connectHttp(d.mcpUrl);
    const syncing = http.call('sync_now', {}).catch((e: Error) => e);
    await until('the first writes', async () => proxy.writes >= 2);
    expect(await d.stop('SIGTERM')).toBe(0);
    // The client's call was cut off by the shutdown; it must not hold the test up.
    void syncing;
    void http.close().catch(() => undefined);
    const written = proxy.writes;
    expect(written).toBeLessThan(30);
    expect(d.stderr()).toMatch(/"msg":"stopped"/);
    expect(d.stderr()).not.toMatch(/"level":"error"/);

    // Restart (the calendar now answering at once) with a short schedule: the rest goes out, nothing twice.
    proxy.rate = 0;
    writeFileSync(config, readFileSync(config, 'utf8').replace('"0 0 1 1 *"', '"*/2 * * * * *"'));
    const again = await daemon(dir, config);
    const check = await openApp({ dataDir: dir, configPath: config });
    const keys = desiredEvents((await check.store.userItems('me'))).map((e) => e.key).sort();
    await check.close();
    // Generous: on a loaded 2-core CI machine the restart and its scheduled run take a while.
    const stored = await until('the restarted daemon to finish', async () => {
      const events = await listStored(radicale, `/${radicale.username}/shutdown/`);
      return events.length >= keys.length && events;
    }, 60_000);
    expect(stored.map((e) => e.key).sort()).toEqual(keys);
    await again.stop();
  } finally {
    await proxy.stop();
  }
}, 150_000);

test('SIGHUP reloads the configuration: an account added to the file is synced without a restart', async () => {
  const dir = tempDir();
  const port = await freePort();
  const config = join(dir, 'config.yaml');
  writeFileSync(config, `users:\n  me:\n    timezone: Europe/Berlin\nsync:\n  schedule: "*/2 * * * * *"\n  jitter_seconds: 0\nhttp:\n  listen: 127.0.0.1:${port}\n`);
  const d = await daemon(dir, config);
  const http = await connectHttp(d.mcpUrl);
  structured(await http.call('add_activity', { activity_details: { name: 'Opera', start_time: '2025-10-01T19:00' } }));
  expect(structured(await http.call('sync_status', {})).accounts).toEqual([]);
  const withAccount = caldavConfig(tempDir(), radicale, { calendar: 'Reloaded' });
  writeFileSync(config, `${readFileSync(withAccount, 'utf8').replace(/sync:\n/, 'sync:\n  schedule: "*/2 * * * * *"\n  jitter_seconds: 0\n')}http:\n  listen: 127.0.0.1:${port}\n`);
  d.child.kill('SIGHUP');
  await until('the reloaded account to sync', async () => (await listStored(radicale, `/${radicale.username}/reloaded/`)).length === 1);
  expect(structured(await http.call('sync_status', {})).accounts).toMatchObject([{ account: 'home', state: 'ok' }]);
  await http.close();
  // A broken file is reported and the running configuration stays.
  writeFileSync(config, 'sync:\n  schedule: "every tuesday"\n');
  d.child.kill('SIGHUP');
  await until('the reload error', async () => /configuration not reloaded/.test(d.stderr()));
  expect(await d.stop()).toBe(0);
});
