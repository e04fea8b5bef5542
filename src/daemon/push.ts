// Push instead of polling: Google watch channels and Microsoft Graph subscriptions that call the
// daemon at http.public_url when a calendar changes, so a change made in the calendar app is
// synced within seconds instead of at the next poll.
//
// Channels: one pass every push.check_seconds, under a lock of the database (on PostgreSQL one
// replica at a time manages them), makes a channel for each Google and Outlook account that has
// none live, and replaces (Google: a new channel, then the old one stopped — channels cannot be
// renewed, and may overlap) or renews (Graph: PATCH) one that ends within renew_before_minutes.
// A failure is logged and tried again later, backing off; meanwhile the account is polled on
// sync.schedule as before. Accounts with a live channel are polled every push.poll_hours only.
//
// Notifications (POST /push/google, /push/microsoft, /push/microsoft/lifecycle) need no MCP
// token: each carries its channel's secret (Google's X-Goog-Channel-Token, Graph's clientState),
// checked against the SHA-256 kept in push_channels, which every replica reads. A verified one
// is answered at once (Graph wants 202 within 3 s) and queues one sync of the account, coalesced:
// on PostgreSQL the job queue's singleton key does it, on SQLite a short window does.
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RemoteNotFoundError, type PushChannel } from '../../providers/types.js';
import type { App } from '../app.js';
import type { Config } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { log } from '../log.js';
import type { PushChannelRow } from '../store/push.js';
import { utcSeconds } from '../store/rows.js';
import { readCapped, sha256 } from './oauth-common.js';

export const GOOGLE_PATH = '/push/google';
export const GRAPH_PATH = '/push/microsoft';
export const GRAPH_LIFECYCLE_PATH = '/push/microsoft/lifecycle';

/** The providers that can push, as accounts name them. */
const PUSHING = new Set(['google', 'outlook']);
/** Google sends no body; Graph's batches of notifications are small JSON. */
const MAX_BODY = 1024 * 1024;
/** Graph's validation tokens are short opaque strings; anything longer is not one. */
const MAX_VALIDATION_TOKEN = 1024;
/** Notifications of one Graph request looked at (it batches them in value[]). */
const MAX_NOTIFICATIONS = 1000;
/** How long a new Google channel's `sync` message may take to arrive before the address is taken as unreachable. */
const CONFIRM_MS = 10_000;

export interface PushSettings {
  /** http.public_url without its trailing slash. */
  base: string;
  ttlSeconds: number;
  renewBeforeMs: number;
  checkMs: number;
  pollMs: number;
  coalesceMs: number;
}

/** The push block as the daemon uses it, or null when push is off; push.enabled without an https public_url is refused. */
export function pushSettings(config: Config): PushSettings | null {
  const { push } = config;
  const url = config.http.public_url;
  const https = url !== undefined && /^https:\/\//i.test(url);
  if (push.enabled === false) return null;
  if (!https) {
    if (push.enabled === true) {
      throw new ConfigError(['push.enabled: push needs http.public_url to be an https:// address that Google and Microsoft can reach (or set push.enabled: false)']);
    }
    return null;
  }
  return {
    base: url.replace(/\/$/, ''), ttlSeconds: push.ttl_minutes * 60, renewBeforeMs: push.renew_before_minutes * 60_000,
    checkMs: push.check_seconds * 1000, pollMs: push.poll_hours * 3_600_000, coalesceMs: push.coalesce_seconds * 1000,
  };
}

/** Where a verified notification goes: the background sync (Scheduler on SQLite, SyncJobs on PostgreSQL). */
export interface PushTrigger {
  trigger(account: string, coalesceMs: number): unknown;
}


/** Constant time: the SHA-256 of what was given against the one kept. */
function secretMatches(given: string, hash: string): boolean {
  const a = Buffer.from(sha256(given), 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

function channelOf(row: PushChannelRow): PushChannel {
  return { channelId: row.channel_id, resourceId: row.resource_id, expiresAt: row.expires_at };
}



function answer(res: ServerResponse, status: number, body?: Record<string, unknown>, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

interface Failure {
  error: string;
  at: string;
  attempts: number;
  retryAt: number;
}

interface GraphNotice {
  subscriptionId?: unknown;
  clientState?: unknown;
  changeType?: unknown;
  lifecycleEvent?: unknown;
}

export class PushManager {
  private timer: NodeJS.Timeout | undefined;
  private passing: Promise<void> | undefined;
  private stopped = false;
  private readonly failures = new Map<string, Failure>();
  /** Work started by notifications (queuing a sync, a lifecycle action), waited for at stop. */
  private readonly work = new Set<Promise<unknown>>();
  /** Channels a notification of reached this process (Google's `sync` message proves the address works). */
  private readonly confirmed = new Set<string>();
  private readonly lastNotice = new Map<string, string>();
  private readonly counts = { accepted: 0, refused: 0, acknowledged: 0 };

  constructor(
    private readonly app: App,
    /** null in a process that runs no background sync (a replica on SQLite): notifications get 503 there. */
    private readonly background: PushTrigger | null,
    private readonly settings: PushSettings,
  ) {}

  /** The first pass now, then one every push.check_seconds. */
  start(): void {
    if (!this.background || this.timer) return;
    void this.pass();
    this.timer = setInterval(() => void this.pass(), this.settings.checkMs);
    this.timer.unref();
  }

  /** No new passes; the one under way and the notifications' work finish. Channels stay: a restart uses them. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.passing;
    await Promise.allSettled([...this.work]);
  }

  /** Whether a scheduled poll should sync the account: always, unless it has a live channel and was synced within poll_hours. */
  async due(account: string): Promise<boolean> {
    if (!(await this.app.store.pushChannels.live(account, utcSeconds(Date.now())))) return true;
    const last = (await this.app.store.syncRows.account(account))?.lastSuccessAt;
    // A minute's slack: a poll on the hour is not put off by a run that ended a second late.
    return !last || Date.now() - Date.parse(last) >= this.settings.pollMs - 60_000;
  }

  /** One pass over the accounts' channels, alone across replicas; a pass asked for during one is that one. */
  pass(): Promise<void> {
    this.passing ??= this.app.store.exclusive('push:channels', () => this.passAlone())
      .catch((error: Error) => log.warn('push channels not checked', { error: error.message }))
      .finally(() => {
        this.passing = undefined;
      });
    return this.passing;
  }

  private async passAlone(): Promise<void> {
    const accounts = await this.app.sync.accounts();
    const configured = new Map(accounts.map((a) => [a.name, a.provider]));
    for (const row of await this.app.store.pushChannels.all()) {
      if (configured.get(row.account) !== row.provider) await this.end(row, 'the account is gone');
    }
    for (const account of accounts) {
      if (this.stopped) return;
      if (!PUSHING.has(account.provider)) continue;
      const failure = this.failures.get(account.name);
      if (failure && failure.retryAt > Date.now()) continue;
      try {
        if (!(await this.app.sync.canWatch(account.name))) continue;
        await this.ensure(account.name, account.provider);
        if (failure) log.info('push channel working again', { account: account.name });
        this.failures.delete(account.name);
      } catch (error) {
        this.failed(account.name, error as Error);
      }
    }
  }

  private failed(account: string, error: Error): void {
    const attempts = (this.failures.get(account)?.attempts ?? 0) + 1;
    // Backing off from check_seconds up to an hour; polling on sync.schedule goes on meanwhile.
    const wait = Math.min(this.settings.checkMs * 2 ** (attempts - 1), 3_600_000);
    this.failures.set(account, { error: error.message, at: utcSeconds(Date.now()), attempts, retryAt: Date.now() + wait });
    log.warn('push channel not set up; the account is polled on sync.schedule meanwhile', { account, error: error.message, retry_in_seconds: Math.round(wait / 1000) });
  }

  private address(provider: string): { address: string; lifecycleAddress?: string } {
    return provider === 'google'
      ? { address: `${this.settings.base}${GOOGLE_PATH}` }
      : { address: `${this.settings.base}${GRAPH_PATH}`, lifecycleAddress: `${this.settings.base}${GRAPH_LIFECYCLE_PATH}` };
  }

  /** A live channel for the account that does not end within renew_before_minutes; the older ones ended. */
  private async ensure(account: string, provider: string): Promise<void> {
    const rows = this.app.store.pushChannels;
    const now = Date.now();
    const { address } = this.address(provider);
    const mine = await rows.forAccount(account);
    // Ended at the provider already: only forgotten.
    for (const row of mine.filter((r) => Date.parse(r.expires_at) <= now)) await rows.remove(row.channel_id);
    const live = mine.filter((r) => Date.parse(r.expires_at) > now);
    const fresh = live.find((r) => r.address === address && Date.parse(r.expires_at) - now > this.settings.renewBeforeMs);
    if (fresh && !fresh.confirmed_at && now - Date.parse(fresh.created_at) > CONFIRM_MS) {
      // Never heard from (on PostgreSQL its first message may have gone to any replica, so this
      // is looked at here, by whichever replica runs the pass): the address does not lead to us.
      await this.end(fresh, 'no notification arrived');
      throw new Error(`Google's first notification did not reach ${fresh.address}: is http.public_url reachable from the internet, and /push/ sent to tripcal?`);
    }
    if (fresh) {
      for (const old of live.filter((r) => r !== fresh)) await this.end(old, 'replaced');
      return;
    }
    const newest = live.find((r) => r.address === address);
    if (newest && await this.renew(account, newest)) {
      for (const old of live.filter((r) => r !== newest)) await this.end(old, 'replaced');
      return;
    }
    await this.create(account, provider);
    for (const old of live) await this.end(old, 'replaced');
  }

  /** Graph: the subscription extended in place; false when the provider cannot, or it is gone. */
  private async renew(account: string, row: PushChannelRow): Promise<boolean> {
    try {
      const renewed = await this.app.sync.renewWatch(account, channelOf(row), this.settings.ttlSeconds);
      if (!renewed) return false;
      await this.app.store.pushChannels.setExpiry(row.channel_id, utcSeconds(Date.parse(renewed.expiresAt)));
      log.info('push channel renewed', { account, expires_at: renewed.expiresAt });
      return true;
    } catch (error) {
      if (!(error instanceof RemoteNotFoundError)) throw error;
      await this.app.store.pushChannels.remove(row.channel_id);
      return false;
    }
  }

  private async create(account: string, provider: string): Promise<void> {
    const rows = this.app.store.pushChannels;
    const token = randomBytes(32).toString('base64url');
    const { address, lifecycleAddress } = this.address(provider);
    const now = Date.now();
    // Google's channel id is ours: the row goes first, so the `sync` message that follows the
    // watch at once finds it. Graph names its subscriptions: the row follows the create.
    const ours = provider === 'google' ? randomUUID() : undefined;
    const row: PushChannelRow = {
      channel_id: ours ?? '', account, provider, resource_id: null, secret_hash: sha256(token), address,
      expires_at: utcSeconds(now + this.settings.ttlSeconds * 1000), created_at: utcSeconds(now), confirmed_at: null,
    };
    if (ours) await rows.add(row);
    let channel: PushChannel;
    try {
      channel = await this.app.sync.watch(account, { id: ours, address, lifecycleAddress, token, ttlSeconds: this.settings.ttlSeconds });
    } catch (error) {
      if (ours) await rows.remove(ours);
      throw error;
    }
    const expires = utcSeconds(Date.parse(channel.expiresAt));
    if (ours) await rows.settle(ours, channel.resourceId, expires);
    else {
      // Graph checked the address (the validation request) before it answered.
      await rows.add({ ...row, channel_id: channel.channelId, resource_id: channel.resourceId, expires_at: expires, confirmed_at: utcSeconds(Date.now()) });
      this.confirmed.add(channel.channelId);
    }
    log.info('push channel made', { account, provider, expires_at: expires });
    if (ours && this.app.store.engine.kind === 'sqlite') await this.confirm(account, { ...row, resource_id: channel.resourceId, expires_at: expires });
  }

  /**
   * On SQLite this daemon is the only process Google can reach: its `sync` message must arrive
   * here, else the public URL does not lead to it and the channel is dropped (polling goes on).
   * On PostgreSQL the message may reach any replica, so this is not checked.
   */
  private async confirm(account: string, row: PushChannelRow): Promise<void> {
    const until = Date.now() + CONFIRM_MS;
    while (!this.confirmed.has(row.channel_id) && Date.now() < until && !this.stopped) await new Promise((resolve) => setTimeout(resolve, 50));
    if (this.confirmed.has(row.channel_id) || this.stopped) return;
    await this.end(row, 'no notification arrived');
    throw new Error(`Google's first notification did not reach ${row.address} within ${CONFIRM_MS / 1000} s: is http.public_url reachable from the internet, and /push/ sent to this daemon?`);
  }

  /** Stops a channel at the provider (best effort: it ends by itself anyway) and forgets it. */
  private async end(row: PushChannelRow, why: string): Promise<void> {
    try {
      await this.app.sync.unwatch(row.account, channelOf(row));
    } catch (error) {
      log.debug('push channel not stopped at the provider; it ends by itself', { account: row.account, error: (error as Error).message });
    }
    await this.app.store.pushChannels.remove(row.channel_id);
    this.confirmed.delete(row.channel_id);
    log.info('push channel ended', { account: row.account, provider: row.provider, why });
  }

  // ---- notifications ----------------------------------------------------------------------------

  /** POST /push/…: answered at once; the sync it asks for runs in the background. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'POST') return answer(res, 405, { error: 'notifications are POSTed' }, { allow: 'POST' });
    if (![GOOGLE_PATH, GRAPH_PATH, GRAPH_LIFECYCLE_PATH].includes(url.pathname)) return answer(res, 404, { error: 'not found' });
    const body = await readCapped(req, MAX_BODY);
    if (!body) return answer(res, 413, { error: `a notification is at most ${MAX_BODY} bytes` });
    // Graph's validation request (at create): the token echoed as plain text, nothing else done.
    const validation = url.pathname === GOOGLE_PATH ? null : url.searchParams.get('validationToken');
    if (validation !== null) return this.validate(res, validation);
    if (!this.background) {
      // A replica on SQLite syncs nothing: the provider tries again later, perhaps at the daemon.
      return answer(res, 503, { error: 'this process runs no background sync' }, { 'retry-after': '30' });
    }
    if (url.pathname === GOOGLE_PATH) return this.google(req, res);
    return this.graph(res, body, url.pathname === GRAPH_LIFECYCLE_PATH);
  }

  /** Graph's validation handshake: 200, text/plain, the decoded token (learn.microsoft.com/graph/change-notifications-delivery-webhooks). */
  private validate(res: ServerResponse, token: string): void {
    if (token.length === 0 || token.length > MAX_VALIDATION_TOKEN) return answer(res, 400, { error: 'validationToken: empty or too long' });
    res.writeHead(200, {
      'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'none'", 'cache-control': 'no-store',
    }).end(token);
  }

  private refuse(res: ServerResponse, status: number, why: string, fields: Record<string, unknown> = {}): void {
    this.counts.refused += 1;
    log.warn('push notification refused', { why, ...fields });
    answer(res, status, { error: why });
  }

  /** Google: headers only (X-Goog-Channel-ID, -Token, X-Goog-Resource-ID, -State), no body. */
  private async google(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const header = (name: string) => {
      const value = req.headers[name];
      return typeof value === 'string' ? value : undefined;
    };
    const id = header('x-goog-channel-id');
    const state = header('x-goog-resource-state');
    if (!id || !state || id.length > 200) return this.refuse(res, 400, 'X-Goog-Channel-ID and X-Goog-Resource-State are required');
    const row = await this.app.store.pushChannels.byId(id);
    if (!row || row.provider !== 'google' || Date.parse(row.expires_at) <= Date.now()) return this.refuse(res, 404, 'unknown channel');
    if (!secretMatches(header('x-goog-channel-token') ?? '', row.secret_hash)) return this.refuse(res, 403, 'the channel token does not match', { account: row.account });
    if (row.resource_id && header('x-goog-resource-id') !== row.resource_id) return this.refuse(res, 403, 'the resource id does not match', { account: row.account });
    answer(res, 200);
    if (!row.confirmed_at && !this.confirmed.has(row.channel_id)) await this.app.store.pushChannels.confirm(row.channel_id, utcSeconds(Date.now()));
    this.confirmed.add(row.channel_id);
    this.lastNotice.set(row.account, utcSeconds(Date.now()));
    // The first message of a channel says only that it works.
    if (state === 'sync') {
      this.counts.acknowledged += 1;
      return;
    }
    this.queue(row.account, `google ${state}`);
  }

  /** Graph: {value: [...]}, each with its subscriptionId and clientState; change or lifecycle notifications. */
  private async graph(res: ServerResponse, body: Buffer, lifecycle: boolean): Promise<void> {
    let notices: GraphNotice[];
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { value?: unknown };
      if (!Array.isArray(parsed.value)) throw new Error('no value[]');
      notices = (parsed.value as GraphNotice[]).slice(0, MAX_NOTIFICATIONS);
    } catch {
      return this.refuse(res, 400, 'a notification is JSON with a value array');
    }
    const verified: Array<{ row: PushChannelRow; notice: GraphNotice }> = [];
    let wrongSecret = false;
    for (const notice of notices) {
      if (!notice || typeof notice.subscriptionId !== 'string' || notice.subscriptionId.length > 200) continue;
      const row = await this.app.store.pushChannels.byId(notice.subscriptionId);
      if (!row || row.provider !== 'outlook') continue;
      if (typeof notice.clientState !== 'string' || !secretMatches(notice.clientState, row.secret_hash)) {
        wrongSecret = true;
        continue;
      }
      verified.push({ row, notice });
    }
    if (verified.length === 0) return wrongSecret ? this.refuse(res, 403, 'the clientState does not match') : this.refuse(res, 404, 'unknown subscription');
    answer(res, 202);
    const accounts = new Set<string>();
    for (const { row, notice } of verified) {
      this.lastNotice.set(row.account, utcSeconds(Date.now()));
      if (lifecycle || typeof notice.lifecycleEvent === 'string') this.lifecycle(row, String(notice.lifecycleEvent));
      else accounts.add(row.account);
    }
    for (const account of accounts) this.queue(account, 'outlook change');
  }

  /**
   * Graph's lifecycle notifications (learn.microsoft.com/graph/change-notifications-lifecycle-events):
   * reauthorizationRequired → renewed; subscriptionRemoved → made again, and a sync (changes may
   * have been missed); missed → a sync.
   */
  private lifecycle(row: PushChannelRow, event: string): void {
    log.info('push lifecycle notification', { account: row.account, event });
    if (event === 'missed') return this.queue(row.account, 'outlook missed');
    if (event !== 'reauthorizationRequired' && event !== 'subscriptionRemoved') return;
    if (event === 'reauthorizationRequired') this.counts.accepted += 1;
    this.track(this.app.store.exclusive('push:channels', async () => {
      if (event === 'subscriptionRemoved') {
        await this.app.store.pushChannels.remove(row.channel_id);
        await this.ensure(row.account, row.provider);
      } else if (!(await this.renew(row.account, row))) {
        await this.ensure(row.account, row.provider);
      }
    }).catch((error: Error) => this.failed(row.account, error)));
    if (event === 'subscriptionRemoved') this.queue(row.account, 'outlook subscription removed');
  }

  private queue(account: string, why: string): void {
    this.counts.accepted += 1;
    log.debug('change notification: sync queued', { account, why });
    this.track(Promise.resolve().then(() => this.background?.trigger(account, this.settings.coalesceMs))
      .catch((error: Error) => log.warn('the sync a notification asked for was not queued; the poll will catch it', { account, error: error.message })));
  }

  private track(work: Promise<unknown>): void {
    this.work.add(work);
    void work.finally(() => this.work.delete(work));
  }

  /** For /healthz: each account's channel (its end, never its secret), failures, and the notifications this process took. */
  async health(): Promise<Record<string, unknown>> {
    const rows = await this.app.store.pushChannels.all();
    const accounts = [...new Set([...rows.map((r) => r.account), ...this.failures.keys()])].sort();
    return {
      address: this.settings.base,
      notifications: { ...this.counts },
      accounts: accounts.map((account) => {
        const live = rows.filter((r) => r.account === account && Date.parse(r.expires_at) > Date.now());
        const failure = this.failures.get(account);
        return {
          account, state: live.length ? 'live' : 'polling', expires_at: live[0]?.expires_at ?? null,
          last_notification_at: this.lastNotice.get(account) ?? null, ...(failure ? { error: failure.error, failed_at: failure.at } : {}),
        };
      }),
    };
  }
}
