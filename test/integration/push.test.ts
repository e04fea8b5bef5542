// Push instead of polling, with the real daemon (in this process) and the fakes sending
// notifications as Google and Microsoft do, through a stand-in for the reverse proxy at
// http.public_url: a user's edit reaches the model without waiting for the poll (which never
// comes here); forged notifications are refused and sync nothing; 20 notifications make one or
// two runs; channels are replaced (Google) or renewed (Graph) before they end; Graph's lifecycle
// notifications are acted on.
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { googleTokensSecret, outlookCacheSecret } from '../../src/auth/vault.js';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { eventIdForKey } from '../../providers/google/ids.js';
import { openTestApp } from '../support/app.js';
import { startGoogleFake, type GoogleFake } from '../support/google-fake.js';
import { GraphFake } from '../support/graph-fake.js';
import { tempDir } from '../support/mcp.js';
import { signIn } from '../support/outlook.js';
import { freePort } from '../support/radicale.js';

const PUBLIC = 'https://tripcal.example';
const TOKEN = 'push-test-token-0123456789abcdef';
const Y = new Date().getUTCFullYear() + 1;

let google: GoogleFake;
let graph: GraphFake;
const running: Daemon[] = [];

beforeAll(async () => {
  google = await startGoogleFake();
  graph = await new GraphFake().start();
});
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop('test over');
  // Channels of a stopped daemon would live on in the fakes (as they would at Google).
  google.channels.clear();
  graph.subscriptions.clear();
});
afterAll(async () => {
  await google?.stop();
  await graph?.stop();
});

const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A daemon on SQLite whose schedule never comes during a test: whatever syncs, push made it sync. */
async function daemon(provider: 'google' | 'outlook', push: string[] = [], proxy?: (to: string) => (address: string) => string): Promise<Daemon> {
  const dir = tempDir();
  const port = await freePort();
  const local = `http://127.0.0.1:${port}`;
  // The reverse proxy: https://tripcal.example/… is this daemon's loopback address. Set before
  // the daemon starts: its first channel is made at start.
  const reach = proxy?.(local) ?? ((address: string) => address.replace(PUBLIC, local));
  if (provider === 'google') google.reach = reach;
  else graph.reach = reach;
  const config = join(dir, 'config.yaml');
  writeFileSync(config, [
    `log_level: ${process.env.PUSH_LOG ?? 'warn'}`,
    'google:', `  client_id: ${google.clientId}`, `  client_secret: ${google.clientSecret}`, `  token_url: ${google.tokenUrl}`, `  api_root: ${google.url}/`,
    'outlook:', `  client_id: ${graph.clientId}`, `  tenant_id: ${graph.tenant}`, `  authority: ${graph.authority}`, `  graph_url: ${graph.graphUrl}`,
    'accounts:', '  - name: work', `    provider: ${provider}`, '    policy: remote_wins',
    'sync:', '  schedule: "0 0 1 1 *"', '  on_edit: false', '  retry_max_wait_seconds: 1',
    'http:', `  listen: 127.0.0.1:${port}`, `  token: ${TOKEN}`, `  public_url: ${PUBLIC}`,
    'push:', '  coalesce_seconds: 0.3', ...push.map((line) => `  ${line}`), '',
  ].join('\n'));
  const setup = await openTestApp({ dataDir: dir, configPath: config });
  if (provider === 'google') await setup.vault.set(googleTokensSecret('work'), JSON.stringify(google.issueTokens()));
  else await setup.vault.set(outlookCacheSecret('work'), (await signIn(graph)).cache!);
  await setup.close();
  const started = await startDaemon({ dataDir: dir, configPath: config });
  running.push(started);
  return started;
}

/** Events listings the fake answered (the one request every sync run makes). */
const googleListings = () => google.requests.filter((r) => r.method === 'GET' && /\/events$/.test(r.path) && !r.part).length;
const graphListings = () => graph.requests.filter((r) => r.method === 'GET' && /delta$|\/events$/.test(r.path)).length;

const startOf = async (d: Daemon, id: string) => (await d.app.store.userItems('me')).find((i) => i.id === id)?.startUtc;

async function tour(d: Daemon): Promise<string> {
  const made = await d.app.trips.addItem(undefined, { kind: 'activity', details: { name: 'Harbor tour', start_time: `${Y}-06-16T10:00` } }, { path: 'a' });
  expect((await d.app.sync.sync())[0]).toMatchObject({ status: 'ok', counts: { created: 1 } });
  return made.item.id;
}

test('Google: a channel at start, its sync message taken; a user\'s edit is in the model within seconds; forged notices sync nothing; 20 make one or two runs', { timeout: 30_000 }, async () => {
  google.calendar().events.clear();
  const d = await daemon('google');
  await until('a live channel', () => google.liveChannels().length === 1 && google.deliveries.some((x) => x.state === 'sync' && x.status === 200));
  const channel = google.liveChannels()[0]!;
  expect(channel.address).toBe(`${PUBLIC}/push/google`);
  // Only the token's SHA-256 is kept.
  const rows = await d.app.store.pushChannels.all();
  expect(rows).toMatchObject([{ channel_id: channel.id, account: 'work', provider: 'google', resource_id: channel.resourceId }]);
  expect(JSON.stringify(rows)).not.toContain(channel.token!);

  const id = await tour(d);
  await google.notificationsSettled();
  await pause(500); // the echo of our own write: one more listing, nothing to do
  const eventId = eventIdForKey(`${id}:activity`);
  // remote_wins: the time the user moved the tour to is taken into the model.
  google.editAsUser(eventId, { start: { dateTime: `${Y}-06-16T19:00:00Z`, timeZone: 'America/New_York' }, end: { dateTime: `${Y}-06-16T20:00:00Z`, timeZone: 'America/New_York' } });
  await until('the edit in the model', async () => (await startOf(d, id)) === `${Y}-06-16T19:00:00Z`);

  // Forged: an unknown channel, a wrong token, a missing header. Refused; no run follows.
  await pause(500);
  const before = googleListings();
  const forge = (headers: Record<string, string>) => fetch(`${d.http.baseUrl}/push/google`, { method: 'POST', headers });
  const base = { 'x-goog-channel-id': channel.id, 'x-goog-channel-token': channel.token!, 'x-goog-resource-id': channel.resourceId, 'x-goog-resource-state': 'exists', 'x-goog-message-number': '99' };
  expect((await forge({ ...base, 'x-goog-channel-id': 'no-such-channel' })).status).toBe(404);
  expect((await forge({ ...base, 'x-goog-channel-token': 'guessed' })).status).toBe(403);
  expect((await forge({ ...base, 'x-goog-resource-id': 'another-calendar' })).status).toBe(403);
  expect((await forge({ 'x-goog-resource-state': 'exists' })).status).toBe(400);
  expect((await fetch(`${d.http.baseUrl}/push/google`)).status).toBe(405);
  await pause(800);
  expect(googleListings()).toBe(before);

  // A burst: 20 changes (the user's own events), 20 notifications, one or two runs.
  for (let i = 0; i < 20; i++) google.addUserEvent({ summary: `Dentist ${i}`, start: { dateTime: `${Y}-07-01T09:00:00Z` }, end: { dateTime: `${Y}-07-01T10:00:00Z` } });
  await google.notificationsSettled();
  expect(google.deliveries.filter((x) => x.state === 'exists').slice(-20).every((x) => x.status === 200)).toBe(true);
  await pause(1200);
  const runs = googleListings() - before;
  process.stderr.write(`20 Google notifications: ${runs} sync run(s)\n`);
  expect(runs).toBeGreaterThanOrEqual(1);
  expect(runs).toBeLessThanOrEqual(2);

  // /healthz shows the channel (never its token); the poll is put off while it is live.
  const health = await (await fetch(`${d.http.baseUrl}/healthz`, { headers: { authorization: `Bearer ${TOKEN}` } })).json() as { push: { accounts: Array<{ account: string; state: string }> } };
  expect(health.push.accounts).toMatchObject([{ account: 'work', state: 'live' }]);
  expect(JSON.stringify(health)).not.toContain(channel.token!);
});

test('Google: a channel is replaced before it ends (a new one, then the old one stopped); an expired one sends nothing', { timeout: 20_000 }, async () => {
  const d = await daemon('google', ['ttl_minutes: 0.05', 'renew_before_minutes: 0.03', 'check_seconds: 0.5']);
  await until('a first channel', () => google.liveChannels().length >= 1);
  const first = google.liveChannels()[0]!;
  await until('its replacement', () => google.channels.get(first.id)!.stopped && google.liveChannels().some((c) => c.id !== first.id));
  // Stopped at Google and forgotten here; the new one is the account's only row.
  const rows = await d.app.store.pushChannels.forAccount('work');
  expect(rows.map((r) => r.channel_id)).not.toContain(first.id);
  expect(rows.length).toBeGreaterThanOrEqual(1);
  const sent = google.deliveries.filter((x) => x.channelId === first.id).length;
  await d.stop('test over');
  running.splice(0);
  // The daemon is gone, its last channel runs out: after that, a change sends nothing on it.
  const last = [...google.channels.values()].filter((c) => !c.stopped).sort((a, b) => b.expiration - a.expiration)[0]!;
  await until('the last channel to expire', () => last.expiration <= Date.now(), 5_000);
  const count = google.deliveries.length;
  google.addUserEvent({ summary: 'After the end', start: { dateTime: `${Y}-07-02T09:00:00Z` }, end: { dateTime: `${Y}-07-02T10:00:00Z` } });
  await google.notificationsSettled();
  expect(google.deliveries.length).toBe(count);
  expect(google.deliveries.filter((x) => x.channelId === first.id).length).toBe(sent);
});

test('Outlook: the subscription passes the validation handshake; an edit is in the model; a wrong clientState is refused; lifecycle notices renew, recreate and sync', { timeout: 30_000 }, async () => {
  graph.events.clear();
  const d = await daemon('outlook');
  await until('a subscription', () => graph.liveSubscriptions().length === 1);
  const sub = graph.liveSubscriptions()[0]!;
  expect(sub).toMatchObject({ notificationUrl: `${PUBLIC}/push/microsoft`, lifecycleNotificationUrl: `${PUBLIC}/push/microsoft/lifecycle`, resource: 'me/events' });
  expect(graph.subscriberCalls.filter((c) => c.kind === 'validation').slice(-2).map((c) => c.status)).toEqual([200, 200]);
  await until('its row', async () => (await d.app.store.pushChannels.forAccount('work')).length === 1);

  const id = await tour(d);
  await graph.notificationsSettled();
  await pause(500);
  const event = graph.liveEvents().find((e) => e.subject === 'Harbor tour')!;
  graph.editAsUser(event.id, { start: { dateTime: `${Y}-06-16T15:00:00`, timeZone: 'America/New_York' }, end: { dateTime: `${Y}-06-16T16:00:00`, timeZone: 'America/New_York' } });
  await until('the edit in the model', async () => (await startOf(d, id)) === `${Y}-06-16T19:00:00Z`);

  // A notice with another clientState, or for a subscription that is not ours: refused, no run.
  await graph.notificationsSettled();
  await pause(500);
  const before = graphListings();
  const post = (path: string, value: unknown[]) => fetch(`${d.http.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value }) });
  const notice = { subscriptionId: sub.id, clientState: sub.clientState, changeType: 'updated', resource: 'Users/x/Events/y', tenantId: graph.tenant };
  expect((await post('/push/microsoft', [{ ...notice, clientState: 'guessed' }])).status).toBe(403);
  expect((await post('/push/microsoft', [{ ...notice, subscriptionId: 'not-ours' }])).status).toBe(404);
  expect((await fetch(`${d.http.baseUrl}/push/microsoft`, { method: 'POST', body: 'not json' })).status).toBe(400);
  await pause(800);
  expect(graphListings()).toBe(before);
  // The echo only for a validation request: plain text, the token as given, nothing more.
  const echo = await fetch(`${d.http.baseUrl}/push/microsoft?validationToken=${encodeURIComponent('<b>hi</b> & more')}`, { method: 'POST' });
  expect([echo.status, echo.headers.get('content-type'), echo.headers.get('x-content-type-options'), await echo.text()]).toEqual([200, 'text/plain; charset=utf-8', 'nosniff', '<b>hi</b> & more']);
  expect((await fetch(`${d.http.baseUrl}/push/microsoft?validationToken=${'x'.repeat(5000)}`, { method: 'POST' })).status).toBe(400);

  // reauthorizationRequired: renewed in place (PATCH).
  const expiry = sub.expiration;
  await pause(20);
  expect(await graph.sendLifecycle(sub.id, 'reauthorizationRequired')).toBe(202);
  await until('the PATCH', () => graph.requests.some((r) => r.method === 'PATCH' && r.path === `/subscriptions/${sub.id}`) && graph.subscriptions.get(sub.id)!.expiration > expiry);
  // missed: a sync.
  const beforeMissed = graphListings();
  expect(await graph.sendLifecycle(sub.id, 'missed')).toBe(202);
  await until('the sync after missed', () => graphListings() > beforeMissed);
  // subscriptionRemoved: a new subscription, and a sync.
  expect(await graph.sendLifecycle(sub.id, 'subscriptionRemoved')).toBe(202);
  await until('a new subscription', () => graph.liveSubscriptions().some((s) => s.id !== sub.id));
  await until('the row replaced', async () => (await d.app.store.pushChannels.forAccount('work')).every((r) => r.channel_id !== sub.id));
});

test('Outlook: a subscription is renewed (PATCH) before it ends; an endpoint that echoes wrong makes the create fail, and the account is polled as before', { timeout: 20_000 }, async () => {
  const d = await daemon('outlook', ['ttl_minutes: 1.5', 'renew_before_minutes: 1.45', 'check_seconds: 0.5']);
  await until('a subscription', () => graph.liveSubscriptions().length >= 1);
  const sub = graph.liveSubscriptions().at(-1)!;
  const first = sub.expiration;
  await until('a renewal', () => graph.subscriptions.get(sub.id)!.expiration > first);
  expect(graph.requests.filter((r) => r.method === 'PATCH' && r.path === `/subscriptions/${sub.id}`).length).toBeGreaterThanOrEqual(1);
  await d.stop('test over');
  running.splice(0);

  // A proxy that answers the validation with something else: Graph refuses the subscription,
  // the daemon says so in /healthz and the account keeps being polled on sync.schedule.
  const calls = graph.subscriberCalls.length;
  const live = graph.liveSubscriptions().length;
  const wrong = createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('not the token'));
  await new Promise<void>((resolve) => wrong.listen(0, '127.0.0.1', resolve));
  const e = await daemon('outlook', [], () => (url) => url.replace(PUBLIC, `http://127.0.0.1:${(wrong.address() as AddressInfo).port}`));
  await until('a validation answered wrongly', () => graph.subscriberCalls.slice(calls).some((c) => c.kind === 'validation' && c.status === 200));
  type Health = { push: { accounts: Array<{ state: string; error?: string }> } };
  await until('the failure in /healthz', async () => {
    const health = await (await fetch(`${e.http.baseUrl}/healthz`, { headers: { authorization: `Bearer ${TOKEN}` } })).json() as Health;
    return health.push.accounts[0]?.state === 'polling' && /validation/i.test(health.push.accounts[0]?.error ?? '');
  });
  expect(graph.liveSubscriptions().length).toBe(live);
  expect(await e.app.store.pushChannels.forAccount('work')).toEqual([]);
  wrong.close();
});
