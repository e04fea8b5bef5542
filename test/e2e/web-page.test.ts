// Issue 21, the status page: the real daemon with trips and a CalDAV account (a real Radicale,
// policy flag), the page loaded in Debian's chromium (playwright-core, no downloaded browser).
// What a traveller reads is checked against the facts of the bookings: JL 62 leaves Narita at
// 17:00 Tokyo time and lands in Los Angeles at 10:30 local, the same calendar day (1 July 2025,
// JST UTC+9, PDT UTC−7) — never against tripcal's own formatting, and never in the host's zone.
// A conflict is settled by clicking, and the calendar is read afterwards from Radicale itself.
// Screenshots go to test-output/.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { listStored, putObject } from '../support/caldav.js';
import { startFaultProxy } from '../support/faultproxy.js';
import { startGoogleFake } from '../support/google-fake.js';
import { connectHttp, startDaemonProcess, type HttpClient, type RunningDaemon } from '../support/daemon.js';
import { CLI, connect, structured, tempDir } from '../support/mcp.js';
import { freePort, startRadicale, type Radicale } from '../support/radicale.js';

const OUT = resolve(import.meta.dirname, '../../test-output');
const COLLECTION = (r: Radicale) => `/${r.username}/trips/`;

let radicale: Radicale;
let daemon: RunningDaemon;
let client: HttpClient;
let browser: Browser;
let base: string;

/** The daemon with this config, listening on a free loopback port (`http` lines go under http:). */
async function daemonWith(lines: string[], env: Record<string, string> = {}, http: string[] = []): Promise<RunningDaemon> {
  const dir = tempDir();
  const port = await freePort();
  writeFileSync(join(dir, 'config.yaml'), [...lines, 'http:', `  listen: 127.0.0.1:${port}`, ...http, ''].join('\n'));
  return startDaemonProcess(['--config', join(dir, 'config.yaml'), '--data-dir', dir], env);
}

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  radicale = await startRadicale();
  daemon = await daemonWith([
    'log_level: warn',
    'users:', '  me:', '    timezone: America/Los_Angeles',
    'accounts:', '  - name: home', '    provider: caldav', `    url: ${radicale.url}/`, `    username: ${radicale.username}`,
    '    password: ${TEST_CALDAV_PASSWORD}', '    calendar: Trips', '    policy: flag',
    'sync:', '  wait_seconds: 5', '  retry_max_wait_seconds: 5',
  ], { TEST_CALDAV_PASSWORD: radicale.password });
  base = daemon.mcpUrl.replace(/\/mcp$/, '');
  client = await connectHttp(daemon.mcpUrl);
  structured(await client.call('create_itinerary', {
    trip_name: 'Tokyo to Los Angeles',
    flights: [{ airline: 'Japan Airlines', flight_number: 'JL62', departure_airport: 'NRT', arrival_airport: 'LAX', departure_time: '2025-07-01T17:00', arrival_time: '2025-07-01T10:30' }],
    accommodations: [{ name: 'Hotel Figueroa', check_in: '2025-07-01T15:00', check_out: '2025-07-04T11:00', timezone: 'America/Los_Angeles' }],
    activities: [{ name: 'Griffith Observatory', start_time: '2025-07-02T19:00', end_time: '2025-07-02T21:00', timezone: 'America/Los_Angeles', location: '2800 E Observatory Rd' }],
  }));
  // 30 minutes at SFO between two domestic flights: shorter than the 60-minute minimum.
  structured(await client.call('create_itinerary', {
    trip_name: 'Up the coast',
    flights: [
      { airline: 'United Airlines', flight_number: 'UA100', departure_airport: 'LAX', arrival_airport: 'SFO', departure_time: '2025-07-10T10:30', arrival_time: '2025-07-10T12:00' },
      { airline: 'United Airlines', flight_number: 'UA200', departure_airport: 'SFO', arrival_airport: 'SEA', departure_time: '2025-07-10T12:30', arrival_time: '2025-07-10T14:40' },
    ],
  }));
  expect(structured(await client.call('sync_now', {})).accounts[0]).toMatchObject({ account: 'home', status: 'ok' });
  // The observatory visit moved an hour later in the calendar app: with policy flag, a conflict.
  const stored = (await listStored(radicale, COLLECTION(radicale))).find((e) => e.summary === 'Griffith Observatory')!;
  expect(stored.startUtc).toBe('2025-07-03T02:00:00.000Z'); // 19:00 PDT on 2 July
  const moved = stored.data.replace(/(DTSTART;TZID=America\/Los_Angeles:20250702T)190000/, '$1200000').replace(/(DTEND;TZID=America\/Los_Angeles:20250702T)210000/, '$1220000');
  expect(moved).not.toBe(stored.data);
  const put = await putObject(radicale, new URL(stored.href, radicale.url).pathname, moved, { 'if-match': stored.etag });
  expect(put.status).toBeLessThan(300);
  expect(structured(await client.call('sync_now', {})).accounts[0].counts.conflicts).toBe(1);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
});

afterAll(async () => {
  await browser?.close();
  await client?.close();
  await daemon?.stop();
  await radicale?.stop();
});

async function openPage(): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  const response = await page.goto(`${base}/`);
  expect(response!.status()).toBe(200);
  expect(response!.headers()['content-security-policy']).toBe("default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  return { page, problems };
}

describe('the page at /', () => {
  test('trips on their local days, the flight in Tokyo and Los Angeles time, checks on the items', async () => {
    const { page, problems } = await openPage();
    const flight = page.locator('li.entry.flight', { hasText: 'JL62' });
    expect(await flight.innerText()).toMatch(/17:00 Tokyo → 10:30 Los Angeles/);
    expect(await page.locator('li.day', { has: flight }).locator('h4').innerText()).toBe('Tue 1 Jul 2025');
    const checkIn = page.locator('li.entry.check-in', { hasText: 'Hotel Figueroa' });
    expect(await checkIn.innerText()).toMatch(/15:00 Los Angeles/);
    expect(await page.locator('li.day', { has: page.locator('li.entry.check-out', { hasText: 'Hotel Figueroa' }) }).locator('h4').innerText()).toBe('Fri 4 Jul 2025');
    // The short connection is marked, in words, on both flights it concerns.
    for (const number of ['UA100', 'UA200']) {
      expect(await page.locator('li.entry.flight', { hasText: number }).innerText()).toMatch(/⚠ Check: only 30 min between/);
    }
    expect(await page.locator('li.entry.flight', { hasText: 'JL62' }).innerText()).not.toContain('⚠');
    // The account in plain words.
    const row = page.locator('#calendars tr', { hasText: 'home' });
    expect(await row.innerText()).toMatch(/caldav\s+Trips\s+.*UTC/);
    expect(await row.innerText()).toContain('1 conflict(s)');
    // Keyboard: the first Tab reaches the first section link.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Calendars');
    await page.screenshot({ path: join(OUT, 'page-trips.png'), fullPage: true });
    expect(problems).toEqual([]);
  });

  test('a flagged conflict, both versions side by side; keeping tripcal\'s puts it back in the calendar', async () => {
    const { page, problems } = await openPage();
    const conflict = page.locator('#conflicts .conflict');
    expect(await conflict.count()).toBe(1);
    const [ours, theirs] = [conflict.locator('> div').nth(0), conflict.locator('> div').nth(1)];
    expect(await ours.innerText()).toMatch(/tripcal's version[\s\S]*Griffith Observatory[\s\S]*Wed 2 Jul 2025 19:00 Los Angeles/);
    expect(await theirs.innerText()).toMatch(/The calendar's version[\s\S]*Wed 2 Jul 2025 20:00 Los Angeles/);
    await page.screenshot({ path: join(OUT, 'page-conflict.png'), fullPage: true });
    await Promise.all([page.waitForURL(/\/\?done=/), page.getByRole('button', { name: 'Keep tripcal\'s version' }).click()]);
    expect(await page.locator('#sync-result').innerText()).toMatch(/home: synced.*updated 1.*conflicts settled with tripcal's version/s);
    expect(await page.locator('#conflicts').innerText()).toContain('None');
    // The calendar's own storage: back at 19:00 Los Angeles time (02:00 UTC the next day).
    const stored = (await listStored(radicale, COLLECTION(radicale))).find((e) => e.summary === 'Griffith Observatory')!;
    expect(stored.startUtc).toBe('2025-07-03T02:00:00.000Z');
    expect(stored.endUtc).toBe('2025-07-03T04:00:00.000Z');
    expect(problems).toEqual([]);
  });

  test('"Sync now" runs a sync and says what it did; feed links copy and subscribe', async () => {
    const { page, problems } = await openPage();
    await Promise.all([page.waitForURL(/\/\?done=/), page.getByRole('button', { name: 'Sync now' }).click()]);
    expect(await page.locator('#sync-result').innerText()).toMatch(/home: synced; created 0, updated 0, deleted 0, unchanged 6, failed 0, conflicts 0/);
    expect(await page.locator('#calendars tr', { hasText: 'home' }).innerText()).toMatch(/In step/);
    const feed = daemon.feeds.me!;
    expect(await page.getByLabel('Feed of me').inputValue()).toBe(feed);
    expect(await page.getByRole('link', { name: 'Subscribe (webcal://)' }).getAttribute('href')).toBe(feed.replace(/^http:/, 'webcal:'));
    await page.getByRole('button', { name: 'Copy link' }).click();
    await expect.poll(() => page.locator('#feed-0-status').innerText()).toBe('Copied.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(feed);
    await page.screenshot({ path: join(OUT, 'page.png'), fullPage: true });
    expect(problems).toEqual([]);
  });

  test('a POST without the page\'s form token, or from another site, changes nothing', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expect((await fetch(`${base}/page/sync`, { method: 'POST', headers: form, body: 'csrf=guess&account=home&resolve=remote' })).status).toBe(403);
    const html = await (await fetch(`${base}/`)).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const foreign = await fetch(`${base}/page/sync`, { method: 'POST', headers: { ...form, origin: 'http://evil.example' }, body: `csrf=${csrf}` });
    expect(foreign.status).toBe(403);
    expect(/<script(?![^>]*src="\/page\.js")/.test(html)).toBe(false); // no inline script
  });
});

describe('a sync that takes a while', () => {
  test('"Sync now" shows each account\'s progress as it goes, then the result; without scripts the page refreshes itself', { timeout: 60_000 }, async () => {
    // Every request to the calendar 150 ms late: 24 new events take a few seconds to write.
    const proxy = await startFaultProxy(radicale.url, { rate: 1, faults: ['delay'] });
    const slow = await daemonWith([
      'log_level: warn',
      'accounts:', '  - name: slow', '    provider: caldav', `    url: ${proxy.url}/`, `    username: ${radicale.username}`,
      '    password: ${TEST_CALDAV_PASSWORD}', '    calendar: Slow', 'sync:', '  on_edit: false', '  concurrency: 2',
    ], { TEST_CALDAV_PASSWORD: radicale.password });
    const slowBase = slow.mcpUrl.replace(/\/mcp$/, '');
    const mcp = await connectHttp(slow.mcpUrl);
    const context = await browser.newContext();
    try {
      structured(await mcp.call('create_itinerary', {
        trip_name: 'Kyoto', activities: Array.from({ length: 24 }, (_, i) => ({ name: `Temple ${i}`, start_time: `2026-04-${String(1 + (i % 20)).padStart(2, '0')}T${String(8 + (i % 9)).padStart(2, '0')}:00`, timezone: 'Asia/Tokyo' })),
      }));
      const page = await context.newPage();
      await page.goto(`${slowBase}/`);
      await Promise.all([page.waitForURL(/\/\?run=/), page.getByRole('button', { name: 'Sync now' }).click()]);
      // While it runs: how far the account is, in words, updated in place.
      await page.waitForFunction(() => /slow: \d+ of 24 change\(s\) written/.test(document.getElementById('sync-progress')?.textContent ?? ''), undefined, { timeout: 20_000 });
      await page.screenshot({ path: join(OUT, 'page-progress.png'), fullPage: true });
      await page.waitForURL(/\/\?done=/, { timeout: 40_000 });
      expect(await page.locator('#sync-result').innerText()).toMatch(/slow: synced; created 24/);
      // Without scripts the page following a run carries a refresh of itself, and nothing else.
      const html = await (await fetch(`${slowBase}/`)).text();
      const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
      const started = await fetch(`${slowBase}/page/sync`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${csrf}` });
      expect(started.status).toBe(303);
      const following = started.headers.get('location')!;
      expect(following).toMatch(/^\/\?run=[\w-]+#sync-result$/);
      const running = await fetch(`${slowBase}${following}`, { redirect: 'manual' });
      if (running.status === 200) expect(await running.text()).toMatch(/<noscript><meta http-equiv="refresh" content="2;url=\/\?run=/);
      else expect(running.headers.get('location')).toMatch(/^\/\?done=/);
    } finally {
      await context.close();
      await mcp.close();
      await slow.stop();
      await proxy.stop();
    }
  });
});

describe('an account that needs signing in again', () => {
  test('"Reconnect" starts the sign-in of authorize_calendar; the browser follows it to Google and back, and the account syncs', { timeout: 60_000 }, async () => {
    const fake = await startGoogleFake();
    const listenerPort = await freePort();
    const google = await daemonWith([
      'log_level: warn',
      'google:', '  client_id: ${TEST_GOOGLE_CLIENT_ID}', '  client_secret: ${TEST_GOOGLE_CLIENT_SECRET}',
      `  auth_url: ${fake.url}/o/oauth2/v2/auth`, `  token_url: ${fake.url}/token`, `  api_root: ${fake.url}/`,
      `  redirect_uri: http://127.0.0.1:${listenerPort}/oauth/callback`,
      'accounts:', '  - name: work', '    provider: google', '    calendar: primary',
      'sync:', '  retry_max_wait_seconds: 1',
    ], { TEST_GOOGLE_CLIENT_ID: fake.clientId, TEST_GOOGLE_CLIENT_SECRET: fake.clientSecret });
    const googleBase = google.mcpUrl.replace(/\/mcp$/, '');
    const mcp = await connectHttp(google.mcpUrl);
    const context = await browser.newContext();
    try {
      structured(await mcp.call('add_activity', { activity_details: { name: 'Sagrada Família', start_time: '2026-05-04T10:00', timezone: 'Europe/Madrid' } }));
      // Never signed in: the sync says so.
      expect(structured(await mcp.call('sync_now', {})).accounts[0]).toMatchObject({ account: 'work', status: 'needs_reauth' });
      const page = await context.newPage();
      await page.goto(`${googleBase}/`);
      const row = page.locator('#calendars tr', { hasText: 'work' });
      expect(await row.innerText()).toMatch(/Problem: Needs re-authorization/);
      await page.screenshot({ path: join(OUT, 'page-reconnect.png'), fullPage: true });
      await Promise.all([page.waitForURL(`${googleBase}/page/reconnect`), row.getByRole('button', { name: 'Reconnect work' }).click()]);
      const signIn = page.getByRole('link', { name: 'Sign in with Google' });
      const consent = new URL((await signIn.getAttribute('href'))!);
      expect(consent.origin + consent.pathname).toBe(`${fake.url}/o/oauth2/v2/auth`);
      expect(consent.searchParams.get('redirect_uri')).toBe(`http://127.0.0.1:${listenerPort}/oauth/callback`);
      expect(consent.searchParams.get('code_challenge_method')).toBe('S256');
      // The fake consents at once and sends the browser back to the listener tripcal opened.
      await Promise.all([page.waitForURL(new RegExp(`^http://127\\.0\\.0\\.1:${listenerPort}/oauth/callback`)), signIn.click()]);
      expect(await page.locator('body').innerText()).toMatch(/Connected Google Calendar \(account "work"\)/);
      // Connected, and the first sync ran: the event is in Google's own storage, and the page says so.
      expect(fake.liveEvents().map((e) => e.summary)).toEqual(['Sagrada Família']);
      await page.goto(`${googleBase}/`);
      expect(await page.locator('#calendars tr', { hasText: 'work' }).innerText()).toMatch(/In step/);
      // The same link again: used up (a state is single-use).
      const again = await fetch(consent.href, { redirect: 'manual' });
      const back = await fetch(again.headers.get('location')!);
      expect(await back.text()).not.toMatch(/Connected/);
    } finally {
      await context.close();
      await mcp.close();
      await google.stop();
      await fake.stop();
    }
  });

  test('a CalDAV account is not reconnected by signing in; an unknown one is refused; both change nothing', async () => {
    const html = await (await fetch(`${base}/`)).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const post = (body: string) => fetch(`${base}/page/reconnect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    const caldav = await post(`csrf=${csrf}&account=home`);
    expect(caldav.status).toBe(400);
    expect(await caldav.text()).toMatch(/is a caldav account: it is connected with its password/);
    const unknown = await post(`csrf=${csrf}&account=nobody`);
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toMatch(/no account &quot;nobody&quot;|no account "nobody"/);
    expect((await post('csrf=guess&account=home')).status).toBe(403);
  });
});

describe('signing in to the page (tripcal\'s own authorization server)', () => {
  test('/ sends the browser to the sign-in; signed in, a person sees their own trips and feed only; signing out ends it', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const port = await freePort();
    const config = join(dir, 'config.yaml');
    writeFileSync(config, ['log_level: warn', 'users:', '  alice:', '    timezone: Europe/Berlin', '  bob:', '    timezone: Europe/Lisbon',
      'http:', `  listen: 127.0.0.1:${port}`, '  auth:', '    builtin: true', ''].join('\n'));
    for (const [user, password] of [['alice', 'alice-password-1'], ['bob', 'bob-password-22']]) {
      expect(spawnSync(process.execPath, [CLI, '--config', config, '--data-dir', dir, 'user', 'passwd', user!], { input: `${password}\n` }).status).toBe(0);
    }
    // Their trips, made before the daemon starts (over stdio, as the person at this machine).
    const local = await connect({ dataDir: dir, args: ['--config', config] });
    structured(await local.call('create_trip', { user_id: 'alice', title: 'Alice in Rome' }));
    structured(await local.call('create_trip', { user_id: 'bob', title: 'Bob in Porto' }));
    await local.close();
    const builtin = await startDaemonProcess(['--config', config, '--data-dir', dir]);
    const site = `http://127.0.0.1:${port}`;
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${site}/`);
      // The sign-in of the built-in server, for the page as a client of its own.
      expect(page.url()).toMatch(new RegExp(`^${site}/authorize\\?`));
      expect(await page.locator('body').innerText()).toMatch(/tripcal status page/);
      await page.getByLabel('User').fill('alice');
      await page.getByLabel('Password').fill('alice-password-1');
      await Promise.all([page.waitForURL(`${site}/`), page.getByRole('button', { name: 'Allow' }).click()]);
      expect(await page.locator('#signed-in').innerText()).toMatch(/Signed in as\s+alice/);
      const trips = await page.locator('#trips').innerText();
      expect(trips).toContain('Alice in Rome');
      expect(trips).not.toContain('Bob in Porto');
      expect(await page.locator('#feeds').innerText()).not.toMatch(/Feed of bob/);
      // The session is cookies this daemon alone reads: HttpOnly, SameSite.
      const cookies = await context.cookies(site);
      expect(cookies.find((c) => c.name === 'tripcal_page')).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
      // Another browser, no cookie: sent to sign in, never shown anyone's trips.
      const stranger = await fetch(`${site}/`, { redirect: 'manual' });
      expect(stranger.status).toBe(303);
      expect(stranger.headers.get('location')).toBe('/page/sign-in');
      await Promise.all([page.waitForURL(`${site}/page/signed-out`), page.getByRole('button', { name: 'Sign out' }).click()]);
      await page.goto(`${site}/`);
      expect(page.url()).toMatch(new RegExp(`^${site}/authorize\\?`));
      // A forged return (no sign-in started in this browser) is refused.
      const forged = await fetch(`${site}/page/callback?code=x&state=y&iss=${encodeURIComponent(site)}`, { redirect: 'manual' });
      expect(forged.status).toBe(400);
    } finally {
      await context.close();
      await builtin.stop();
    }
  });
});

describe('with tokens configured', () => {
  test('the page answers 401 and says why (a browser has no way to send a static token)', async () => {
    const withToken = await daemonWith(['log_level: warn'], {}, ['  token: page-test-token-0123456789']);
    const page = withToken.mcpUrl.replace(/\/mcp$/, '/');
    try {
      const res = await fetch(page);
      expect(res.status).toBe(401);
      expect(await res.text()).toMatch(/A browser has no way to send a static token/);
      // A script that sends the token is let in, as on /mcp (this one is http.token: everyone's).
      const withBearer = await fetch(page, { headers: { authorization: 'Bearer page-test-token-0123456789' } });
      expect(withBearer.status).toBe(200);
      expect(await withBearer.text()).toContain('<h2 id="calendars-h">Calendars</h2>');
    } finally {
      await withToken.stop();
    }
  });
});
