// A loopback fake of Google Calendar v3 and Google's OAuth endpoints, for the real googleapis /
// google-auth-library clients. No emulator exists, so this one enforces what the real service
// does, each rule citing the public reference it comes from (keys as in
// docs/reference/google-calendar-v3.md §0):
//   ERR   developers.google.com/workspace/calendar/api/guides/errors
//   SYNC  …/guides/sync          VER  …/guides/version-resources     BATCH …/guides/batch
//   XP    …/guides/extended-properties    DISC  the discovery text in googleapis calendar/v3
//   QUOTA …/guides/quota         PERF  …/guides/performance#patch (patch semantics)
//   API reference pages: …/v3/reference/events/{list,get,patch,import}, …/freebusy/query,
//   …/calendarList/list (their parameter texts are the DISC texts)
//   RFC6749 §4.1.3, §5.2, §6 (token requests and errors), RFC7636 (PKCE), RFC5545 §3.8.7.4 (SEQUENCE)
//   PUSH  …/guides/push (events.watch, channels.stop, the notification messages' headers)
// Rules marked [obs] are reported by users of the API, not documented; they are configurable.
// Tests drive faults (quota errors, 5xx, lost answers, expired sync tokens, expired access
// tokens, revoked refresh tokens) and read the fake's state directly.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { DateTime } from 'luxon';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface StoredEvent {
  data: Json;
  seq: number;
  etagN: number;
}

/** Where a listing stands: the snapshot `s`, the sync token's `since`, the last key given. */
interface EventsPage {
  after: [number, number] | null;
  n: number;
  s: number;
  since: number;
  sync: boolean;
  h: string;
}

interface FakeCalendar {
  id: string;
  /** Shown in the user's list; Google leaves the field out when not. */
  selected: boolean;
  summary: string;
  timeZone: string;
  accessRole: 'owner' | 'writer' | 'reader' | 'freeBusyReader';
  primary: boolean;
  events: Map<string, StoredEvent>;
}

export interface Fault {
  status: number;
  reason?: string;
  retryAfter?: string;
  /** Only requests whose "METHOD path" matches. */
  match?: RegExp;
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Inside a batch. */
  part: boolean;
}

/** A notification channel (PUSH "Create notification channels"). */
export interface FakeChannel {
  id: string;
  resourceId: string;
  calendarId: string;
  address: string;
  token: string | undefined;
  /** ms since the epoch. */
  expiration: number;
  messageNumber: number;
  stopped: boolean;
}

/** A notification the fake sent, and what the receiver answered (0: no answer). */
export interface Delivery {
  channelId: string;
  state: string;
  messageNumber: number;
  status: number;
}

export const SCOPE = {
  events: 'https://www.googleapis.com/auth/calendar.events',
  readonly: 'https://www.googleapis.com/auth/calendar.readonly',
  calendarList: 'https://www.googleapis.com/auth/calendar.calendarlist.readonly',
  freebusy: 'https://www.googleapis.com/auth/calendar.freebusy',
  full: 'https://www.googleapis.com/auth/calendar',
  appCreated: 'https://www.googleapis.com/auth/calendar.app.created',
};

// DISC Event.id: base32hex, 5–1024 characters.
const ID_RULE = /^[a-v0-9]{5,1024}$/;
const SYNC_FORBIDDEN = ['iCalUID', 'orderBy', 'privateExtendedProperty', 'q', 'sharedExtendedProperty', 'timeMin', 'timeMax', 'updatedMin'];
const READ_ONLY = ['kind', 'etag', 'htmlLink', 'created', 'updated', 'creator', 'organizer', 'iCalUID', 'recurringEventId'];

function error(status: number, reason: string, message: string, domain = 'global', location?: { locationType: string; location: string }): Reply {
  // ERR: every error is {error: {code, message, errors: [{domain, reason, message, …}]}} as application/json.
  return { status, body: { error: { code: status, message, errors: [{ domain, reason, message, ...location }] } } };
}

const json = (body: unknown): Reply => ({ status: 200, body });

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * DISC Event.start.dateTime: "formatted according to RFC3339. A time zone offset is required
 * unless a time zone is explicitly specified in timeZone": with an offset it is that instant,
 * without one it is the wall time in `timeZone`. (Read with luxon, never with tripcal's own code.)
 */
function instantOf(t: Json | undefined): number | null {
  if (!t) return null;
  if (t.date) return Date.parse(`${t.date}T00:00:00Z`);
  if (!t.dateTime) return null;
  if (/(Z|[+-]\d\d:\d\d)$/i.test(t.dateTime)) return Date.parse(t.dateTime);
  return DateTime.fromISO(String(t.dateTime), { zone: String(t.timeZone) }).toMillis();
}

/** DISC timeZone: "an IANA Time Zone Database name". */
function isZone(name: string): boolean {
  return name.includes('/') || name === 'UTC' ? DateTime.local().setZone(name).isValid : false;
}

/** `2025-06-15T01:00:00-07:00`: how the API shows a dateTime in a zone. */
function shownIn(ms: number, zone: string): string {
  return DateTime.fromMillis(ms, { zone }).toISO({ suppressMilliseconds: true, includeOffset: true })!;
}

export class GoogleFake {
  readonly clientId = 'tripcal-test.apps.googleusercontent.com';
  readonly clientSecret = 'fake-client-secret';
  url = '';
  readonly calendars = new Map<string, FakeCalendar>();
  readonly requests: FakeRequest[] = [];
  readonly authRequests: URLSearchParams[] = [];
  /** Events list page size when the client asks for more (to force paging); Google's cap is 2500. */
  pageSize = 2500;
  /** calendarList page size when the client asks for more; Google's cap is 250. */
  calendarListPageSize = 250;
  /** Short and empty pages on purpose (DISC: a page may be short or empty while nextPageToken is there). */
  raggedPages = false;
  /** Scopes the user unticks on the consent screen (granular consent): left out of what is granted. */
  untickedScopes: string[] = [];
  /** freeBusy refuses longer spans (timeRangeTooLong). */
  freeBusyMaxDays = 90;
  /**
   * QUOTA (developers.google.com/workspace/calendar/api/guides/quota, "Calendar API quotas"): a
   * per-minute per-user limit on a sliding window, 600 requests in the copy consulted (the note of
   * May 2026 says new projects get other figures, so it is configurable; null turns it off). Each
   * part of a batch counts as one request (BATCH: "a set of n requests batched together counts
   * toward your usage limit as n requests"). Over it: 403 or 429 rateLimitExceeded in the
   * usageLimits domain (ERR "403: Rate limit exceeded" / "429: Too many requests").
   */
  quota: { perMinute: number; status: 403 | 429; windowMs?: number } | null = { perMinute: 600, status: 403 };
  /** Requests refused by the quota. */
  quotaRefusals = 0;
  /** How long an API call takes to answer (0: at once). */
  latencyMs = 0;
  /**
   * Extended properties limits. Not in the docs consulted (XP guide, Event resource); these are
   * the commonly reported figures (reference §7 [obs]): key ≤ 44 characters, value ≤ 1024
   * characters, ≤ 300 properties per event (private and shared together), ≤ 32 kB in all.
   */
  xpLimits = { key: 44, value: 1024, count: 300, bytes: 32 * 1024 };
  /** Access tokens live this long. */
  accessTokenSeconds = 3600;
  /** Each request fails with one of `randomFaults.faults` at this rate. */
  randomFaults: { rate: number; faults: Fault[]; random: () => number } | null = null;
  /** Called after every event write the fake carried out (for kill-after-N tests). */
  afterWrite: ((count: number) => void) | null = null;
  /** Called for every API request before it is answered (to change the fake's state mid-paging, say). */
  onApiRequest: ((request: FakeRequest) => void) | null = null;
  /** Called before an event write is carried out (to slip in a user's edit and force a 412). */
  beforeWrite: ((method: string, eventId: string | undefined) => void) | null = null;
  writes = 0;
  /** Fault answers given (injected or random) and answers dropped. */
  faultsServed = 0;
  tokenRequests: URLSearchParams[] = [];
  /** Every access and refresh token handed out, to prove none is stored in the clear. */
  readonly issued: string[] = [];
  /** Notification channels made with events.watch, by id. */
  readonly channels = new Map<string, FakeChannel>();
  /** Every notification sent, in order. */
  readonly deliveries: Delivery[] = [];
  /**
   * PUSH: a channel lives `params.ttl` seconds; Google does not document the longest it grants.
   * [obs] Calendar channels are commonly reported to last at most about a week (also the default).
   */
  channelMaxSeconds = 7 * 86_400;
  /**
   * Where a notification for `address` (an https URL) is really sent: the test's stand-in for the
   * internet and the reverse proxy in front of tripcal (the daemon listens on plain loopback).
   */
  reach: (address: string) => string = (address) => address;

  private server: Server | undefined;
  private readonly sending = new Set<Promise<void>>();
  private readonly secret = randomBytes(16).toString('hex');
  /** Each user's requests inside the quota's window, by when they came. */
  private readonly quotaLog = new Map<string, number[]>();
  private readonly sockets = new Set<Socket>();
  private seq = 1;
  private etags = 1;
  private syncFloor = 0;
  private readonly faults: Fault[] = [];
  private loseAnswers = 0;
  private readonly codes = new Map<string, { challenge: string; method: string; redirectUri: string; clientId: string; scope: string; used: boolean }>();
  /** Tokens by the user they were granted by (quota is per user): the fake's own email unless a test names another. */
  private readonly accessTokens = new Map<string, { expires: number; scope: string; user: string }>();
  private readonly refreshTokens = new Map<string, { revoked: boolean; scope: string; user: string }>();

  constructor(readonly email = 'traveller@example.com') {
    this.addCalendar({ id: email, summary: email, timeZone: 'America/Los_Angeles', accessRole: 'owner', primary: true });
  }

  addCalendar(c: Omit<FakeCalendar, 'events' | 'primary' | 'selected'> & { primary?: boolean; selected?: boolean }): FakeCalendar {
    const cal: FakeCalendar = { primary: false, selected: true, ...c, events: new Map() };
    this.calendars.set(c.id, cal);
    return cal;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.onRequest(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  get tokenUrl(): string {
    return `${this.url}/token`;
  }

  get authUrl(): string {
    return `${this.url}/o/oauth2/v2/auth`;
  }

  // ---- test controls --------------------------------------------------------------------------

  /** The next matching request(s) fail with this answer. */
  failNext(fault: Fault, times = 1): void {
    for (let i = 0; i < times; i++) this.faults.push(fault);
  }

  /** Forgets faults queued and not yet served. */
  clearFaults(): void {
    this.faults.length = 0;
  }

  /** The next N requests are carried out, but the connection drops before the answer. */
  loseNextAnswers(n: number): void {
    this.loseAnswers += n;
  }

  /** Forgets the requests counted against the per-minute quota (as if a minute had passed). */
  resetQuota(): void {
    this.quotaLog.clear();
  }

  /** Every sync token given so far is now invalid (410 fullSyncRequired). */
  expireSyncTokens(): void {
    this.syncFloor = this.seq;
  }

  expireAccessTokens(): void {
    for (const t of this.accessTokens.values()) t.expires = 0;
  }

  revokeRefreshTokens(): void {
    for (const t of this.refreshTokens.values()) t.revoked = true;
    this.expireAccessTokens();
  }

  /**
   * Tokens a test can hand to tripcal as if an OAuth flow had run; `user` names another Google
   * user than the fake's own (each user has a quota of their own; the calendars are one namespace).
   */
  issueTokens(scope = `${SCOPE.events} ${SCOPE.calendarList} ${SCOPE.freebusy}`, user = this.email): { access_token: string; refresh_token: string; expiry_date: number; scope: string; token_type: string } {
    const access = this.newAccessToken(scope, user);
    const refresh = this.newRefreshToken(scope, user);
    return { access_token: access, refresh_token: refresh, expiry_date: Date.now() + this.accessTokenSeconds * 1000, scope, token_type: 'Bearer' };
  }

  /** As if an attacker swapped the PKCE challenge: the code's verifier no longer matches. */
  tamperChallenge(code: string): void {
    const c = this.codes.get(code);
    if (!c) throw new Error(`no code ${code}`);
    c.challenge = base64url(createHash('sha256').update('someone-else-s-verifier-0123456789abcdefghijkl').digest());
  }

  calendar(id = this.email): FakeCalendar {
    const cal = this.calendars.get(id);
    if (!cal) throw new Error(`no calendar ${id}`);
    return cal;
  }

  /** Live (not cancelled) events of a calendar, as the API would return them. */
  liveEvents(calendarId = this.email): Json[] {
    return [...this.calendar(calendarId).events.values()].filter((e) => e.data.status !== 'cancelled').map((e) => this.render(e, this.calendar(calendarId)));
  }

  /** As if the user edited an event in Google Calendar: fields merged, etag and sequence moved. */
  editAsUser(eventId: string, changes: Json, calendarId = this.email): void {
    const stored = this.calendar(calendarId).events.get(eventId);
    if (!stored) throw new Error(`no event ${eventId}`);
    const previous = stored.data;
    const next = { ...previous, ...changes };
    stored.data = { ...next, sequence: this.sequenceFor(previous, next, undefined) as number };
    this.touch(stored, previous);
  }

  deleteAsUser(eventId: string, calendarId = this.email): void {
    const stored = this.calendar(calendarId).events.get(eventId);
    if (!stored) throw new Error(`no event ${eventId}`);
    stored.data.status = 'cancelled';
    this.touch(stored);
  }

  /** An event the user made themselves (not ours). */
  addUserEvent(event: Json, calendarId = this.email): Json {
    const id = event.id ?? `u${randomBytes(8).toString('hex').replace(/[w-z]/g, '0')}`;
    const stored: StoredEvent = { data: { status: 'confirmed', ...event, id, created: new Date().toISOString() }, seq: 0, etagN: 0 };
    this.calendar(calendarId).events.set(id, stored);
    this.touch(stored);
    return stored.data;
  }

  apiRequests(): FakeRequest[] {
    return this.requests;
  }

  /** Channels not stopped and not expired. */
  liveChannels(): FakeChannel[] {
    return [...this.channels.values()].filter((c) => !c.stopped && c.expiration > Date.now());
  }

  /** Notifications are sent asynchronously: resolves when every one sent so far has been answered. */
  async notificationsSettled(): Promise<void> {
    while (this.sending.size > 0) await Promise.allSettled([...this.sending]);
  }

  // ---- HTTP ------------------------------------------------------------------------------------

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.url);
    let reply: Reply;
    try {
      reply = this.route(req.method ?? 'GET', url, req.headers as Record<string, string>, body, false);
    } catch (e) {
      reply = error(500, 'backendError', `Backend Error (${(e as Error).message})`);
    }
    if (this.loseAnswers > 0 && url.pathname !== '/token' && !url.pathname.startsWith('/o/oauth2')) {
      this.loseAnswers -= 1;
      this.faultsServed += 1;
      req.socket.destroy();
      return;
    }
    // Google takes tens of milliseconds per call; a bench of many accounts wants that, not 0.
    if (this.latencyMs > 0 && url.pathname !== '/token') await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    this.send(res, reply);
  }

  private send(res: ServerResponse, reply: Reply): void {
    const headers: Record<string, string> = { ...reply.headers };
    let text = '';
    if (typeof reply.body === 'string') text = reply.body;
    else if (reply.body !== undefined) {
      text = JSON.stringify(reply.body);
      headers['content-type'] ??= 'application/json; charset=UTF-8';
    }
    res.writeHead(reply.status, headers);
    res.end(text);
  }

  private nextFault(method: string, path: string): Fault | undefined {
    const i = this.faults.findIndex((f) => !f.match || f.match.test(`${method} ${path}`));
    if (i >= 0) return this.faults.splice(i, 1)[0];
    const r = this.randomFaults;
    if (r && r.random() < r.rate) return r.faults[Math.floor(r.random() * r.faults.length)];
    return undefined;
  }

  private faultReply(f: Fault): Reply {
    const reason = f.reason ?? (f.status === 429 ? 'rateLimitExceeded' : f.status >= 500 ? 'backendError' : 'forbidden');
    // ERR: every rate and quota reason (rateLimitExceeded, userRateLimitExceeded, quotaExceeded) is in usageLimits.
    const domain = /ratelimit|quota/i.test(reason) ? 'usageLimits' : 'global';
    const messages: Record<string, string> = {
      backendError: 'Backend Error', authError: 'Invalid Credentials', rateLimitExceeded: 'Rate Limit Exceeded',
      userRateLimitExceeded: 'User Rate Limit Exceeded', quotaExceeded: 'Calendar usage limits exceeded.',
    };
    const r = error(f.status, reason, messages[reason] ?? 'Forbidden', domain);
    if (f.retryAfter) r.headers = { 'retry-after': f.retryAfter };
    return r;
  }

  private route(method: string, url: URL, headers: Record<string, string>, body: string, part: boolean): Reply {
    const path = url.pathname;
    if (path === '/o/oauth2/v2/auth') return this.authorize(url.searchParams);
    if (path === '/token' && method === 'POST') return this.token(new URLSearchParams(body), headers);
    const request = { method, path, query: url.searchParams, part };
    this.requests.push(request);
    this.onApiRequest?.(request);
    const fault = this.nextFault(method, path);
    if (fault) {
      this.faultsServed += 1;
      return this.faultReply(fault);
    }
    if (path === '/batch/calendar/v3' && method === 'POST' && !part) return this.batch(headers, body);
    // ERR 401 authError: missing, expired or unknown bearer token.
    const token = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
    const grant = token ? this.accessTokens.get(token) : undefined;
    if (!grant || grant.expires <= Date.now()) {
      return error(401, 'authError', 'Invalid Credentials', 'global', { locationType: 'header', location: 'Authorization' });
    }
    if (this.quota) {
      const now = Date.now();
      // windowMs: a test may shrink the minute (same rule, less waiting).
      const window = this.quota.windowMs ?? 60_000;
      const log = this.quotaLog.get(grant.user) ?? [];
      this.quotaLog.set(grant.user, log);
      while (log.length > 0 && log[0]! <= now - window) log.shift();
      if (log.length >= this.quota.perMinute) {
        this.quotaRefusals += 1;
        return this.faultReply({ status: this.quota.status, reason: 'rateLimitExceeded' });
      }
      log.push(now);
    }
    let parsed: Json = {};
    if (body) {
      try {
        parsed = JSON.parse(body);
      } catch {
        return error(400, 'parseError', 'Parse Error');
      }
    }
    const scopes = new Set(grant.scope.split(' '));
    const can = (...wanted: string[]) => wanted.some((s) => scopes.has(s));
    // ERR: a token without the method's scope gets 403 insufficientPermissions.
    const insufficient = () => error(403, 'insufficientPermissions', 'Request had insufficient authentication scopes.');
    const m = /^\/calendar\/v3\/calendars\/([^/]+)\/events(?:\/([^/]+))?$/.exec(path);
    if (m) {
      const calendar = this.resolveCalendar(decodeURIComponent(m[1]!));
      if (!calendar) return error(404, 'notFound', 'Not Found');
      const eventId = m[2] ? decodeURIComponent(m[2]) : undefined;
      if (method === 'GET' && !can(SCOPE.events, SCOPE.readonly, SCOPE.full, SCOPE.appCreated)) return insufficient();
      if (method !== 'GET' && !can(SCOPE.events, SCOPE.full, SCOPE.appCreated)) return insufficient();
      if (method !== 'GET' && calendar.accessRole !== 'owner' && calendar.accessRole !== 'writer') {
        return error(403, 'requiredAccessLevel', 'You need to have writer access to this calendar.', 'calendar');
      }
      if (!eventId) {
        if (method === 'GET') return this.list(calendar, url.searchParams);
        if (method === 'POST') {
          this.beforeWrite?.(method, undefined);
          return this.insert(calendar, parsed);
        }
        return error(405, 'methodNotAllowed', 'Method Not Allowed');
      }
      // PUSH: POST …/calendars/{calendarId}/events/watch. (An event cannot have the id "watch":
      // base32hex has no w.)
      if (eventId === 'watch' && method === 'POST') return this.watch(calendar, parsed);
      if (eventId === 'import' && method === 'POST') {
        this.beforeWrite?.(method, undefined);
        return this.importEvent(calendar, parsed);
      }
      if (method !== 'GET') this.beforeWrite?.(method, eventId);
      const ifMatch = headers['if-match'];
      if (method === 'GET') return this.get(calendar, eventId, headers['if-none-match'], url.searchParams.get('timeZone') ?? undefined);
      if (method === 'PUT') return this.update(calendar, eventId, parsed, ifMatch, false);
      if (method === 'PATCH') return this.update(calendar, eventId, parsed, ifMatch, true);
      if (method === 'DELETE') return this.remove(calendar, eventId, ifMatch);
    }
    if (path === '/calendar/v3/users/me/calendarList' && method === 'GET') {
      // DISC calendarList.list: calendar, calendar.calendarlist(.readonly), calendar.readonly.
      if (!can(SCOPE.calendarList, SCOPE.readonly, SCOPE.full)) return insufficient();
      return this.calendarList(url.searchParams);
    }
    if (path === '/calendar/v3/calendars' && method === 'POST') {
      if (!can(SCOPE.full, SCOPE.appCreated)) return insufficient();
      if (!parsed.summary) return error(400, 'required', 'Missing title.');
      const id = `${randomBytes(10).toString('hex')}@group.calendar.google.com`;
      const cal = this.addCalendar({ id, summary: parsed.summary, timeZone: parsed.timeZone ?? this.calendar().timeZone, accessRole: 'owner' });
      return json({ kind: 'calendar#calendar', etag: `"${this.etags++}"`, id: cal.id, summary: cal.summary, timeZone: cal.timeZone });
    }
    if (path === '/calendar/v3/channels/stop' && method === 'POST') return this.stopChannel(parsed);
    if (path === '/calendar/v3/freeBusy' && method === 'POST') {
      // DISC freebusy.query: calendar, calendar.events.freebusy, calendar.freebusy, calendar.readonly.
      if (!can(SCOPE.freebusy, SCOPE.readonly, SCOPE.full)) return insufficient();
      return this.freeBusy(parsed);
    }
    return error(404, 'notFound', 'Not Found');
  }

  private resolveCalendar(id: string): FakeCalendar | undefined {
    // DISC: "primary" names the signed-in user's main calendar.
    return id === 'primary' ? this.calendar() : this.calendars.get(id);
  }

  /**
   * A change: the etag always moves (VER: "a new ETag … whenever the resource changes"), and so
   * does the position for sync tokens; `updated` only when the main data changed (DISC
   * Event.updated: "Last modification time of the main event data … Updating event reminders
   * will not cause this to change").
   */
  private touch(stored: StoredEvent, previous?: Json): void {
    this.changed(stored);
    stored.seq = this.seq++;
    stored.etagN = this.etags++;
    const main = (d: Json) => canonical({ ...d, reminders: undefined, updated: undefined, sequence: undefined });
    if (previous && previous.updated && main(previous) === main(stored.data)) stored.data.updated = previous.updated;
    else stored.data.updated = new Date().toISOString();
  }

  /**
   * DISC Event.sequence ("Sequence number as per iCalendar"): a write may leave it out (the stored
   * one stays) or give one at least the stored one; a lower one is refused [obs: Google's answer
   * is 400 "Invalid sequence value. The specified sequence number is below the current sequence
   * number of the resource…"]. The server raises it itself when the time moves (RFC 5545 §3.8.7.4:
   * a change to DTSTART/DTEND is a significant revision).
   */
  private sequenceFor(previous: Json, next: Json, given: unknown): number | Reply {
    const current = Number(previous.sequence ?? 0);
    if (given !== undefined && given !== null) {
      if (!Number.isInteger(given) || (given as number) < current) {
        return error(400, 'invalid', 'Invalid sequence value. The specified sequence number is below the current sequence number of the resource. Re-fetch the resource and use its sequence number on the following request.');
      }
      if ((given as number) > current) return given as number;
    }
    const moved = instantOf(previous.start) !== instantOf(next.start) || instantOf(previous.end) !== instantOf(next.end)
      || Boolean(previous.start?.date) !== Boolean(next.start?.date);
    return moved ? current + 1 : current;
  }

  private wrote(): void {
    this.writes += 1;
    this.afterWrite?.(this.writes);
  }

  /**
   * The event as the API returns it. DISC events.list / events.get `timeZone`: "Time zone used in
   * the response. Optional. The default is the time zone of the calendar." So a dateTime comes back
   * with the offset of the requested zone, else of the calendar's zone — never of the event's own
   * start.timeZone / end.timeZone, which are returned unchanged as fields.
   * (developers.google.com/workspace/calendar/api/v3/reference/events/list#timeZone)
   */
  private render(stored: StoredEvent, calendar: FakeCalendar, zone?: string): Json {
    const e = stored.data;
    if (e.status === 'cancelled') {
      // DISC Event.status: a deleted event is only guaranteed its id and status.
      return { kind: 'calendar#event', etag: `"${stored.etagN}"`, id: e.id, status: 'cancelled', updated: e.updated };
    }
    const time = (t: Json | undefined) => {
      if (!t || t.date) return t;
      const z = zone ?? calendar.timeZone;
      return { dateTime: shownIn(instantOf(t)!, z), ...(t.timeZone ? { timeZone: t.timeZone } : {}) };
    };
    return {
      kind: 'calendar#event',
      ...e,
      etag: `"${stored.etagN}"`,
      htmlLink: `https://www.google.com/calendar/event?eid=${base64url(`${e.id} ${calendar.id}`)}`,
      iCalUID: e.iCalUID ?? `${e.id}@google.com`,
      sequence: e.sequence ?? 0,
      start: time(e.start),
      end: time(e.end),
      reminders: e.reminders ?? { useDefault: true },
    };
  }

  /** Field rules of insert and update (DISC; ERR; reference §7). Returns an error reply or null. */
  private validate(e: Json): Reply | null {
    for (const side of ['start', 'end'] as const) {
      const t = e[side];
      if (!t) return error(400, 'required', `Missing ${side} time.`);
      if (Boolean(t.date) === Boolean(t.dateTime)) return error(400, 'invalid', `Invalid ${side} time.`);
      if (t.timeZone && !isZone(t.timeZone)) return error(400, 'timeZoneInvalid', `Invalid time zone definition for ${side} time.`);
      if (t.dateTime && !/(Z|[+-]\d\d:\d\d)$/.test(t.dateTime) && !t.timeZone) return error(400, 'required', `Missing time zone definition for ${side} time.`);
      if (t.date && !/^\d{4}-\d\d-\d\d$/.test(t.date)) return error(400, 'invalid', `Invalid ${side} time.`);
    }
    if (Boolean(e.start.date) !== Boolean(e.end.date)) return error(400, 'invalid', 'Start and end times must either both be date or both be dateTime.');
    if (e.recurrence && (!e.start.timeZone || !e.end.timeZone)) return error(400, 'required', 'Missing time zone definition for start time.');
    const start = instantOf(e.start)!;
    const end = instantOf(e.end)!;
    if (Number.isNaN(start) || Number.isNaN(end)) return error(400, 'invalid', 'Invalid start time.');
    if (end < start) return error(400, 'timeRangeEmpty', 'The specified time range is empty.', 'calendar');
    // DISC EventDateTime.date / Event.end: "The (exclusive) end time of the event": an all-day event
    // ending on its start date covers no day at all (ERR timeRangeEmpty).
    if (e.start.date && end <= start) return error(400, 'timeRangeEmpty', 'The specified time range is empty.', 'calendar');
    const r = e.reminders;
    if (r) {
      // EventReminder: at most 5 overrides, minutes 0–40320, method email|popup; not with useDefault.
      if (r.useDefault && r.overrides?.length) return error(400, 'cannotUseDefaultRemindersAndSpecifyOverride', 'Cannot specify both default reminders and overrides at the same time.');
      if ((r.overrides?.length ?? 0) > 5) return error(400, 'invalid', 'Invalid value for: Too many reminders');
      for (const o of r.overrides ?? []) {
        if (!['email', 'popup'].includes(o.method)) return error(400, 'invalid', 'Invalid value for: reminders.overrides.method');
        if (!Number.isInteger(o.minutes) || o.minutes < 0 || o.minutes > 40_320) return error(400, 'invalid', 'Invalid value for: reminders.overrides.minutes');
      }
    }
    // XP: values are strings; limits as in xpLimits (see there: reported, not documented).
    let count = 0;
    let bytes = 0;
    for (const scope of ['private', 'shared'] as const) {
      for (const [k, v] of Object.entries((e.extendedProperties?.[scope] ?? {}) as Record<string, unknown>)) {
        if (typeof v !== 'string') return error(400, 'invalid', `Invalid value for: extendedProperties.${scope}`);
        if (k.length > this.xpLimits.key || v.length > this.xpLimits.value) return error(400, 'invalid', 'Invalid extended property');
        count += 1;
        bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
      }
    }
    if (count > this.xpLimits.count) return error(400, 'invalid', 'Too many extended properties.');
    if (bytes > this.xpLimits.bytes) return error(400, 'invalid', 'Extended properties are too large.');
    if (e.colorId !== undefined && !/^(?:[1-9]|1[01])$/.test(String(e.colorId))) return error(400, 'invalid', 'Invalid value for: colorId');
    if (e.status && !['confirmed', 'tentative', 'cancelled'].includes(e.status)) return error(400, 'invalid', 'Invalid value for: status');
    return null;
  }

  private clean(body: Json): Json {
    const copy = { ...body };
    for (const k of READ_ONLY) delete copy[k];
    return copy;
  }

  private insert(calendar: FakeCalendar, body: Json): Reply {
    const e = this.clean(body);
    // DISC Event.iCalUID: "only one of them [id, iCalUID] should be supplied at event creation
    // time"; insert keeps a given UID, else the server makes one. ERR 409 duplicate ("The requested
    // identifier already exists.") also for a UID the calendar holds already (cancelled or not).
    const uid = body.iCalUID;
    if (uid !== undefined && uid !== null) {
      if (typeof uid !== 'string' || !uid) return error(400, 'invalid', 'Invalid iCalUID value.');
      if ([...calendar.events.values()].some((x) => x.data.iCalUID === uid)) return error(409, 'duplicate', 'The requested identifier already exists.');
    }
    if (e.id !== undefined) {
      // DISC Event.id + IDERR: base32hex only, 5–1024 chars, else 400 invalid.
      if (typeof e.id !== 'string' || !ID_RULE.test(e.id)) return error(400, 'invalid', 'Invalid resource id value.');
      // ERR 409 duplicate — also for a deleted (cancelled) event with that id (SO409).
      if (calendar.events.has(e.id)) return error(409, 'duplicate', 'The requested identifier already exists.');
    } else {
      e.id = randomBytes(13).toString('hex').replace(/[w-z]/g, '0');
    }
    const invalid = this.validate(e);
    if (invalid) return invalid;
    if (e.sequence !== undefined && (!Number.isInteger(e.sequence) || e.sequence < 0)) return error(400, 'invalid', 'Invalid sequence value.');
    const stored: StoredEvent = {
      data: { status: 'confirmed', ...e, sequence: e.sequence ?? 0, iCalUID: uid ?? `${e.id}@google.com`, created: new Date().toISOString() }, seq: 0, etagN: 0,
    };
    this.touch(stored);
    calendar.events.set(e.id, stored);
    this.wrote();
    return json(this.render(stored, calendar));
  }

  private get(calendar: FakeCalendar, id: string, ifNoneMatch?: string, zone?: string): Reply {
    if (zone !== undefined && !isZone(zone)) return error(400, 'invalid', 'Invalid time zone.');
    const stored = calendar.events.get(id);
    if (!stored) return error(404, 'notFound', 'Not Found');
    // VER: If-None-Match with the current etag is 304 with no body.
    if (ifNoneMatch && ifNoneMatch === `"${stored.etagN}"`) return { status: 304 };
    // DISC: get always returns cancelled events, with status "cancelled".
    return json(this.render(stored, calendar, zone));
  }

  private update(calendar: FakeCalendar, id: string, body: Json, ifMatch: string | undefined, patch: boolean): Reply {
    const stored = calendar.events.get(id);
    if (!stored) return error(404, 'notFound', 'Not Found');
    // VER / ERR: If-Match must equal the current etag exactly, else 412 conditionNotMet.
    if (ifMatch !== undefined && ifMatch !== `"${stored.etagN}"`) {
      return error(412, 'conditionNotMet', 'Precondition Failed', 'global', { locationType: 'header', location: 'If-Match' });
    }
    const incoming = this.clean(body);
    delete incoming.id;
    const previous = stored.data;
    let next: Json;
    if (patch) {
      // events.patch reference: "Field values that you specify replace the existing values. Fields
      // that you don't specify in the request remain unchanged. Array fields, if specified,
      // overwrite the existing arrays"; and the patch semantics of the performance guide
      // (developers.google.com/workspace/calendar/api/guides/performance#patch): nested objects are
      // merged field by field, a null deletes. So `start: {dateTime}` keeps the stored
      // start.timeZone, and XP's per-key merge of extendedProperties (null deletes a key) is the
      // same rule one level down.
      next = mergePatch(structuredClone(previous), incoming);
    } else {
      // XP / DISC: update (PUT) replaces the event; properties left out are dropped.
      next = { status: 'confirmed', ...incoming, id, created: previous.created };
    }
    next.iCalUID = previous.iCalUID; // DISC: read-only after creation
    const invalid = this.validate(next);
    if (invalid) return invalid;
    const sequence = this.sequenceFor(previous, next, incoming.sequence);
    if (typeof sequence !== 'number') return sequence;
    stored.data = { ...next, id, sequence };
    this.touch(stored, previous);
    this.wrote();
    return json(this.render(stored, calendar));
  }

  /**
   * events.import: DISC Event.iCalUID "must be supplied when importing events via the import
   * method"; an import of a UID the calendar holds already replaces that event (the import
   * reference: "add a private copy of an existing event"; the copy is one per UID).
   */
  private importEvent(calendar: FakeCalendar, body: Json): Reply {
    const uid = body.iCalUID;
    if (typeof uid !== 'string' || !uid) return error(400, 'required', 'Missing iCalUID.');
    const existing = [...calendar.events.values()].find((e) => e.data.iCalUID === uid);
    if (!existing) return this.insert(calendar, body);
    const next = { status: 'confirmed', ...this.clean(body), id: existing.data.id, created: existing.data.created, iCalUID: uid };
    const invalid = this.validate(next);
    if (invalid) return invalid;
    const sequence = this.sequenceFor(existing.data, next, body.sequence);
    if (typeof sequence !== 'number') return sequence;
    const previous = existing.data;
    existing.data = { ...next, sequence };
    this.touch(existing, previous);
    this.wrote();
    return json(this.render(existing, calendar));
  }

  private remove(calendar: FakeCalendar, id: string, ifMatch: string | undefined): Reply {
    const stored = calendar.events.get(id);
    if (!stored) return error(404, 'notFound', 'Not Found');
    // ERR 410 deleted: deleting a deleted event.
    if (stored.data.status === 'cancelled') return error(410, 'deleted', 'Resource has been deleted');
    if (ifMatch !== undefined && ifMatch !== `"${stored.etagN}"`) {
      return error(412, 'conditionNotMet', 'Precondition Failed', 'global', { locationType: 'header', location: 'If-Match' });
    }
    // DISC: delete is a soft delete; the event stays as "cancelled" (and its id stays taken).
    stored.data.status = 'cancelled';
    this.touch(stored);
    this.wrote();
    return { status: 204 };
  }

  private syncTokenFor(seq: number, calendar: FakeCalendar): string {
    return base64url(JSON.stringify({ s: seq, c: calendar.id, m: createHash('sha256').update(`${seq}:${calendar.id}`).digest('hex').slice(0, 12) }));
  }

  private parseSyncToken(token: string, calendar: FakeCalendar): number | null {
    try {
      const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { s: number; c: string; m: string };
      if (t.c !== calendar.id || this.syncTokenFor(t.s, calendar) !== token) return null;
      return t.s;
    } catch {
      return null;
    }
  }

  private list(calendar: FakeCalendar, q: URLSearchParams): Reply {
    const syncToken = q.get('syncToken');
    if (syncToken) {
      // DISC / QIITA: these parameters cannot be combined with syncToken; nor showDeleted=false.
      if (SYNC_FORBIDDEN.some((p) => q.has(p)) || q.get('showDeleted') === 'false') {
        return error(400, 'syncTokenWithRequestRestrictions', 'Sync token cannot be used with other request restrictions.', 'calendar');
      }
    }
    const orderBy = q.get('orderBy');
    // DISC orderBy: "startTime" or "updated"; events.list reference: startTime "is only available
    // when querying single events (i.e. the parameter singleEvents is True)". Google's answer is
    // 400 "The requested ordering is not available for the particular query." [obs].
    if (orderBy !== null && orderBy !== 'startTime' && orderBy !== 'updated') return error(400, 'invalid', 'Invalid value for: orderBy');
    if (orderBy === 'startTime' && q.get('singleEvents') !== 'true') {
      return error(400, 'badRequest', 'The requested ordering is not available for the particular query.');
    }
    const zone = q.get('timeZone') ?? undefined;
    if (zone !== undefined && !isZone(zone)) return error(400, 'invalid', 'Invalid time zone.');
    const timeOk = (v: string | null) => v === null || /(Z|[+-]\d\d:\d\d)$/.test(v);
    const timeMin = q.get('timeMin');
    const timeMax = q.get('timeMax');
    // DISC: timeMin / timeMax must carry an offset; ERR timeRangeEmpty when max <= min.
    if (!timeOk(timeMin) || !timeOk(timeMax)) return error(400, 'badRequest', 'Bad Request');
    if (timeMin && timeMax && Date.parse(timeMax) <= Date.parse(timeMin)) {
      return error(400, 'timeRangeEmpty', 'The specified time range is empty.', 'calendar', { locationType: 'parameter', location: 'timeMax' });
    }
    // DISC maxResults: "By default the value is 250 events. The page size can never be larger than
    // 2500 events", and "the number of events in the resulting page may be less than this value, or
    // none at all, even if there are more events matching the query" (pageSize, raggedPages).
    const asked = q.has('maxResults') ? Number(q.get('maxResults')) : 250;
    if (!Number.isInteger(asked) || asked < 1) return error(400, 'invalid', 'Invalid value for: maxResults');
    const maxResults = Math.min(asked, 2500, this.pageSize);
    // SYNC "Initial full sync … Incremental sync": the follow-up page request repeats the original
    // query and adds pageToken; the token is the position in *that* query's result, so here it is
    // bound to it (same calendar, same parameters) and a token used with other ones is refused.
    const query = this.queryHash(calendar.id, q);
    let page: EventsPage = { after: null, n: 0, s: this.seq - 1, since: 0, sync: false, h: query };
    const pageToken = q.get('pageToken');
    if (pageToken) {
      const parsed = this.unsign<EventsPage>(pageToken);
      if (!parsed || parsed.h !== query) return error(400, 'invalid', 'Invalid page token value.', 'global', { locationType: 'parameter', location: 'pageToken' });
      // SYNC / ERR 410: a sync token that expires while its result is being paged makes the next
      // page 410 fullSyncRequired (the client must restart from a full sync).
      if (parsed.sync && parsed.since < this.syncFloor) {
        return error(410, 'fullSyncRequired', 'Sync token is no longer valid, a full sync is required.', 'calendar', { locationType: 'parameter', location: 'syncToken' });
      }
      page = parsed;
    } else if (syncToken) {
      const since = this.parseSyncToken(syncToken, calendar);
      // ERR 410 fullSyncRequired: expired or garbled token (SO410).
      if (since === null || since < this.syncFloor) {
        return error(410, 'fullSyncRequired', 'Sync token is no longer valid, a full sync is required.', 'calendar', { locationType: 'parameter', location: 'syncToken' });
      }
      page.since = since;
      page.sync = true;
    }
    const wanted = q.getAll('privateExtendedProperty').map((p) => p.split('='));
    const showDeleted = q.get('showDeleted') === 'true';
    // DISC orderBy: "startTime" (ascending start), "updated" (ascending modification time); the
    // default is "an unspecified, stable order" (here: order of the last change).
    const keyOf = (e: StoredEvent): number => (orderBy === 'startTime' ? instantOf(e.data.start) ?? 0 : orderBy === 'updated' ? Date.parse(e.data.updated) : e.seq);
    const after = page.after;
    const all = [...calendar.events.values()]
      .filter((e) => e.seq <= page.s && e.seq > page.since)
      .filter((e) => {
        const d = e.data;
        // DISC: incremental results always include deletions; full ones only with showDeleted.
        if (d.status === 'cancelled' && !page.sync && !showDeleted) return false;
        // DISC: repeated privateExtendedProperty constraints must all match.
        if (wanted.some(([k, v]) => d.extendedProperties?.private?.[k!] !== v)) return false;
        // DISC iCalUID: "Use this if you want to search for an event by its iCalendar ID".
        if (q.has('iCalUID') && (d.iCalUID ?? `${d.id}@google.com`) !== q.get('iCalUID')) return false;
        // DISC: timeMin bounds the end (exclusive), timeMax the start (exclusive).
        if (timeMin && (instantOf(d.end) ?? 0) <= Date.parse(timeMin)) return false;
        if (timeMax && (instantOf(d.start) ?? 0) >= Date.parse(timeMax)) return false;
        return true;
      })
      .map((e) => ({ e, k: keyOf(e) }))
      .sort((a, b) => a.k - b.k || a.e.seq - b.e.seq)
      // Keyset paging: what follows the last item given, so that an event changed while the pages
      // are read (it moves past the snapshot `s`, to the next sync) never shifts another one out.
      .filter(({ e, k }) => !after || k > after[0] || (k === after[0] && e.seq > after[1]));
    let size = maxResults;
    // DISC: pages may be short or even empty while a nextPageToken is still given.
    if (this.raggedPages) size = page.n % 3 === 1 ? 0 : Math.max(1, Math.floor(maxResults / 2));
    const slice = all.slice(0, size);
    const next = size < all.length;
    const last = slice[slice.length - 1];
    return json({
      kind: 'calendar#events',
      etag: `"p${this.seq}"`,
      summary: calendar.summary,
      updated: new Date().toISOString(),
      timeZone: calendar.timeZone,
      accessRole: calendar.accessRole,
      defaultReminders: [{ method: 'popup', minutes: 10 }],
      items: slice.map(({ e }) => this.render(e, calendar, zone)),
      // DISC / SYNC: exactly one of nextPageToken or nextSyncToken; the sync token only on the last page.
      ...(next
        ? { nextPageToken: this.sign<EventsPage>({ ...page, after: last ? [last.k, last.e.seq] : page.after, n: page.n + 1 }) }
        : { nextSyncToken: this.syncTokenFor(page.s, calendar) }),
    });
  }

  /** The query a page token belongs to: calendar and every parameter but the token itself. */
  private queryHash(scope: string, q: URLSearchParams): string {
    const params = [...q.entries()].filter(([k]) => k !== 'pageToken').map(([k, v]) => `${k}=${v}`).sort();
    return createHash('sha256').update(JSON.stringify([scope, params])).digest('hex').slice(0, 16);
  }

  /** An opaque token the fake can trust when it comes back (a client cannot forge a position). */
  private sign<T>(value: T): string {
    const text = JSON.stringify(value);
    return base64url(JSON.stringify({ v: text, m: createHash('sha256').update(`${this.secret}:${text}`).digest('hex').slice(0, 16) }));
  }

  private unsign<T>(token: string): T | null {
    try {
      const { v, m } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v: string; m: string };
      if (createHash('sha256').update(`${this.secret}:${v}`).digest('hex').slice(0, 16) !== m) return null;
      return JSON.parse(v) as T;
    } catch {
      return null;
    }
  }

  private calendarList(q: URLSearchParams): Reply {
    // DISC calendarList.list maxResults: "By default the value is 100 entries. The page size can
    // never be larger than 250 entries"; nextPageToken until the last page, bound to the query.
    const asked = q.has('maxResults') ? Number(q.get('maxResults')) : 100;
    if (!Number.isInteger(asked) || asked < 1) return error(400, 'invalid', 'Invalid value for: maxResults');
    const size = Math.min(asked, 250, this.calendarListPageSize);
    const query = this.queryHash('calendarList', q);
    let from = 0;
    const pageToken = q.get('pageToken');
    if (pageToken) {
      const parsed = this.unsign<{ o: number; h: string }>(pageToken);
      if (!parsed || parsed.h !== query) return error(400, 'invalid', 'Invalid page token value.', 'global', { locationType: 'parameter', location: 'pageToken' });
      from = parsed.o;
    }
    const all = [...this.calendars.values()];
    const next = from + size < all.length;
    return json({
      kind: 'calendar#calendarList',
      etag: `"l${this.seq}"`,
      items: all.slice(from, from + size).map((c) => ({
        kind: 'calendar#calendarListEntry', etag: `"c${this.seq}"`, id: c.id, summary: c.summary, timeZone: c.timeZone,
        accessRole: c.accessRole, ...(c.primary ? { primary: true } : {}), ...(c.selected ? { selected: true } : {}),
      })),
      ...(next ? { nextPageToken: this.sign({ o: from + size, h: query }) } : { nextSyncToken: `cl${this.seq}` }),
    });
  }

  private freeBusy(body: Json): Reply {
    // DISC FreeBusyRequest.timeMin / timeMax are RFC3339 datetimes, which always carry an offset
    // (RFC 3339 §5.6 time-offset is not optional): "2025-06-15T10:00:00" is refused, not read in
    // some zone. (developers.google.com/workspace/calendar/api/v3/reference/freebusy/query)
    const rfc3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i;
    if (!rfc3339.test(String(body.timeMin)) || !rfc3339.test(String(body.timeMax))) return error(400, 'badRequest', 'Bad Request');
    const from = Date.parse(body.timeMin);
    const to = Date.parse(body.timeMax);
    if (Number.isNaN(from) || Number.isNaN(to)) return error(400, 'badRequest', 'Bad Request');
    if (to <= from) return error(400, 'timeRangeEmpty', 'The specified time range is empty.', 'calendar');
    // Not in Google's docs, reported by its users (cal.com): spans past ~3 months are refused.
    if (to - from > this.freeBusyMaxDays * 86_400_000) return error(400, 'timeRangeTooLong', 'The requested time range is too long.', 'calendar');
    const calendars: Json = {};
    for (const [i, { id }] of ((body.items ?? []) as Array<{ id: string }>).entries()) {
      // DISC FreeBusyRequest.calendarExpansionMax: at most 50 calendars per query.
      if (i >= 50) {
        calendars[id] = { busy: [], errors: [{ domain: 'global', reason: 'tooManyCalendarsRequested' }] };
        continue;
      }
      const cal = this.resolveCalendar(id);
      // DISC FreeBusyCalendar: a calendar's problem is reported inside its entry, under a 200.
      if (!cal) {
        calendars[id] = { busy: [], errors: [{ domain: 'global', reason: 'notFound' }] };
        continue;
      }
      const spans = [...cal.events.values()]
        .map((e) => e.data)
        // DISC transparency: only opaque events block time; cancelled ones never do.
        .filter((d) => d.status !== 'cancelled' && d.transparency !== 'transparent')
        .map((d) => [Math.max(instantOf(d.start)!, from), Math.min(instantOf(d.end)!, to)] as [number, number])
        .filter(([s, e]) => s < e)
        .sort((a, b) => a[0] - b[0]);
      const merged: Array<[number, number]> = [];
      for (const s of spans) {
        const last = merged[merged.length - 1];
        if (last && s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
        else merged.push([...s]);
      }
      calendars[id] = { busy: merged.map(([s, e]) => ({ start: new Date(s).toISOString(), end: new Date(e).toISOString() })) };
    }
    return json({ kind: 'calendar#freeBusy', timeMin: body.timeMin, timeMax: body.timeMax, calendars });
  }

  /** BATCH: multipart/mixed of whole HTTP requests (path only); answers in order, Content-ID <response-…>. */
  private batch(headers: Record<string, string>, body: string): Reply {
    const boundary = /boundary="?([^";]+)"?/.exec(headers['content-type'] ?? '')?.[1];
    if (!boundary) return error(400, 'badRequest', 'Bad Request');
    const parts = body.split(`--${boundary}`).slice(1).filter((p) => !p.startsWith('--'));
    // BATCH: at most 1000 calls per batch.
    if (parts.length > 1000) return error(400, 'badRequest', 'Too many requests in a batch.');
    const out = `batch_${randomBytes(8).toString('hex')}`;
    const answers = parts.map((raw) => {
      const [outer, http] = splitOnce(raw.replace(/^\r\n/, ''));
      const id = /Content-ID:\s*<([^>]+)>/i.exec(outer)?.[1] ?? '';
      const [head, partBody] = splitOnce(http);
      const [requestLine, ...lines] = head.split('\r\n');
      const [method, target] = (requestLine ?? '').split(' ');
      // BATCH: each part uses the path only; outer headers apply unless the part sets its own.
      const partHeaders: Record<string, string> = { authorization: headers.authorization ?? '' };
      for (const line of lines) {
        const c = line.indexOf(':');
        if (c > 0) partHeaders[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
      }
      let reply: Reply;
      // BATCH "Format of a batch request": "Each part begins with its own Content-Type:
      // application/http HTTP header"; a part that is not an HTTP request is not carried out.
      if (!/^content-type:\s*application\/http\s*$/im.test(outer)) reply = error(400, 'badRequest', 'Batch parts must have Content-Type: application/http.');
      else if (!target?.startsWith('/calendar/v3/')) reply = error(400, 'badRequest', 'Batch parts must use a Calendar API path.');
      else reply = this.route(method ?? 'GET', new URL(target, this.url), partHeaders, partBody.trim(), true);
      const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
      const extra = Object.entries(reply.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      return `--${out}\r\nContent-Type: application/http\r\nContent-ID: <response-${id}>\r\n\r\n`
        + `HTTP/1.1 ${reply.status} X\r\nContent-Type: application/json; charset=UTF-8\r\n${extra}\r\n${text}\r\n`;
    });
    return { status: 200, headers: { 'content-type': `multipart/mixed; boundary=${out}` }, body: `${answers.join('')}--${out}--\r\n` };
  }

  // ---- push notifications (PUSH) ----------------------------------------------------------------

  /**
   * PUSH "Make watch requests": {id, type: "web_hook", address, token?, params.ttl?}. The id is the
   * client's (at most 64 characters, unique); the address must be HTTPS ("push.webhookUrlNotHttps");
   * the answer is an api#channel with Google's resourceId and the expiration in ms (a string).
   * Then Google sends a `sync` message on the new channel.
   */
  private watch(calendar: FakeCalendar, body: Json): Reply {
    if (typeof body.id !== 'string' || !/^[A-Za-z0-9\-_+/=]{1,64}$/.test(body.id)) return error(400, 'invalid', 'Invalid channel id.', 'global', { locationType: 'other', location: 'id' });
    if (body.type !== 'web_hook' && body.type !== 'webhook') return error(400, 'invalid', 'Invalid channel type.', 'global', { locationType: 'other', location: 'type' });
    if (typeof body.address !== 'string' || !URL.canParse(body.address)) return error(400, 'required', 'Required: address', 'global', { locationType: 'other', location: 'address' });
    if (new URL(body.address).protocol !== 'https:') return error(400, 'push.webhookUrlNotHttps', 'WebHook callback must be HTTPS: ' + body.address, 'push');
    if (body.token !== undefined && (typeof body.token !== 'string' || body.token.length > 256)) return error(400, 'invalid', 'Invalid channel token.', 'global', { locationType: 'other', location: 'token' });
    if (this.channels.has(body.id)) return error(400, 'channelIdNotUnique', 'Channel id not unique', 'push');
    const ttl = body.params?.ttl === undefined ? this.channelMaxSeconds : Number(body.params.ttl);
    if (!Number.isFinite(ttl) || ttl <= 0) return error(400, 'invalid', 'Invalid ttl value for channel', 'global', { locationType: 'other', location: 'params.ttl' });
    const channel: FakeChannel = {
      id: body.id, resourceId: this.resourceIdOf(calendar), calendarId: calendar.id, address: body.address, token: body.token,
      expiration: Date.now() + Math.min(ttl, this.channelMaxSeconds) * 1000, messageNumber: 0, stopped: false,
    };
    this.channels.set(channel.id, channel);
    setImmediate(() => this.notify(channel, 'sync'));
    return json({
      kind: 'api#channel', id: channel.id, resourceId: channel.resourceId,
      resourceUri: `${this.url}/calendar/v3/calendars/${encodeURIComponent(calendar.id)}/events?alt=json`,
      ...(channel.token !== undefined ? { token: channel.token } : {}), expiration: String(channel.expiration),
    });
  }

  /** PUSH "Stop notifications": channels/stop {id, resourceId}; 204, or 404 for a channel it does not know. */
  private stopChannel(body: Json): Reply {
    const channel = this.channels.get(String(body.id));
    if (!channel || channel.stopped || channel.resourceId !== body.resourceId) return error(404, 'notFound', `Channel '${String(body.id)}' not found for project`);
    channel.stopped = true;
    return { status: 204 };
  }

  /** PUSH: the X-Goog-Resource-ID is "an opaque ID that identifies the watched resource", stable across channels. */
  private resourceIdOf(calendar: FakeCalendar): string {
    return base64url(createHash('sha256').update(`${this.secret}:events:${calendar.id}`).digest()).slice(0, 27);
  }

  /** An event changed (by tripcal or the user): each live channel on its calendar gets an `exists` message. */
  private changed(stored: StoredEvent): void {
    setImmediate(() => {
      for (const calendar of this.calendars.values()) {
        if (calendar.events.get(stored.data.id) !== stored) continue;
        for (const channel of this.channels.values()) if (channel.calendarId === calendar.id) this.notify(channel, 'exists');
      }
    });
  }

  /**
   * PUSH "Receive notifications": a POST to the channel's address with no body and the headers
   * X-Goog-Channel-ID, X-Goog-Channel-Token (when set), X-Goog-Channel-Expiration (RFC 1123),
   * X-Goog-Message-Number (1 for the sync message, increasing), X-Goog-Resource-ID,
   * X-Goog-Resource-URI, X-Goog-Resource-State (`sync`, then `exists` / `not_exists`). An expired
   * or stopped channel sends nothing.
   */
  private notify(channel: FakeChannel, state: 'sync' | 'exists' | 'not_exists'): void {
    if (channel.stopped || channel.expiration <= Date.now()) return;
    const messageNumber = ++channel.messageNumber;
    const headers: Record<string, string> = {
      'x-goog-channel-id': channel.id, 'x-goog-channel-expiration': new Date(channel.expiration).toUTCString(),
      'x-goog-message-number': String(messageNumber), 'x-goog-resource-id': channel.resourceId,
      'x-goog-resource-uri': `${this.url}/calendar/v3/calendars/${encodeURIComponent(channel.calendarId)}/events?alt=json`,
      'x-goog-resource-state': state, 'content-length': '0',
    };
    if (channel.token !== undefined) headers['x-goog-channel-token'] = channel.token;
    const delivery: Delivery = { channelId: channel.id, state, messageNumber, status: 0 };
    this.deliveries.push(delivery);
    const sent = fetch(this.reach(channel.address), { method: 'POST', headers, signal: AbortSignal.timeout(10_000) })
      .then(async (res) => {
        delivery.status = res.status;
        await res.arrayBuffer();
      })
      .catch(() => undefined)
      .finally(() => this.sending.delete(sent));
    this.sending.add(sent);
  }

  // ---- OAuth ----------------------------------------------------------------------------------

  private newRefreshToken(scope: string, user = this.email): string {
    const token = `1//fake-refresh-${randomBytes(12).toString('hex')}`;
    this.refreshTokens.set(token, { revoked: false, scope, user });
    this.issued.push(token);
    return token;
  }

  private newAccessToken(scope: string, user = this.email): string {
    const token = `ya29.fake-${randomBytes(16).toString('hex')}`;
    this.issued.push(token);
    this.accessTokens.set(token, { expires: Date.now() + this.accessTokenSeconds * 1000, scope, user });
    return token;
  }

  /** The consent screen, approved at once: a code bound to the PKCE challenge, sent back to redirect_uri. */
  private authorize(q: URLSearchParams): Reply {
    this.authRequests.push(q);
    const redirect = q.get('redirect_uri');
    if (q.get('client_id') !== this.clientId || !redirect) return { status: 400, body: 'Error 401: invalid_client' };
    if (q.get('response_type') !== 'code') return { status: 400, body: 'unsupported_response_type' };
    // RFC 7636 §4.3: code_challenge_method is "plain" (the default) or "S256".
    if (q.has('code_challenge_method') && !['plain', 'S256'].includes(q.get('code_challenge_method')!)) return { status: 400, body: 'invalid_request: code_challenge_method' };
    const code = `4/fake-code-${randomBytes(12).toString('hex')}`;
    const granted = (q.get('scope') ?? '').split(' ').filter((s) => s && !this.untickedScopes.includes(s)).join(' ');
    this.codes.set(code, {
      challenge: q.get('code_challenge') ?? '', method: q.get('code_challenge_method') ?? 'plain', redirectUri: redirect,
      clientId: this.clientId, scope: granted, used: false,
    });
    const target = new URL(redirect);
    target.searchParams.set('code', code);
    if (q.get('state')) target.searchParams.set('state', q.get('state')!);
    target.searchParams.set('scope', q.get('scope') ?? '');
    return { status: 302, headers: { location: target.href } };
  }

  /** RFC 6749 §4.1.3 / §6 with RFC 7636 PKCE; errors as §5.2 (`{error, error_description}`, 400). */
  private token(form: URLSearchParams, headers: Record<string, string>): Reply {
    this.tokenRequests.push(form);
    const oauthError = (status: number, code: string, description: string): Reply => ({ status, body: { error: code, error_description: description } });
    // RFC 6749 §4.1.3 and §6: the client sends the parameters "using the
    // application/x-www-form-urlencoded format … in the HTTP request entity-body"; anything else
    // is a malformed request (§5.2 invalid_request).
    if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(headers['content-type'] ?? '')) {
      return oauthError(400, 'invalid_request', 'Invalid content type: the token endpoint takes application/x-www-form-urlencoded.');
    }
    let clientId = form.get('client_id');
    let secret = form.get('client_secret');
    const basic = /^Basic (.+)$/.exec(headers.authorization ?? '')?.[1];
    if (basic) [clientId, secret] = Buffer.from(basic, 'base64').toString('utf8').split(':') as [string, string];
    if (clientId !== this.clientId || secret !== this.clientSecret) return oauthError(401, 'invalid_client', 'Unauthorized');
    const grant = form.get('grant_type');
    if (grant === 'authorization_code') {
      const code = this.codes.get(form.get('code') ?? '');
      if (!code || code.used) return oauthError(400, 'invalid_grant', 'Malformed auth code.');
      code.used = true; // codes are single-use
      if (code.redirectUri !== form.get('redirect_uri')) return oauthError(400, 'redirect_uri_mismatch', 'Bad Request');
      const verifier = form.get('code_verifier') ?? '';
      // RFC 7636 §4.6: an authorization request that carried a code_challenge binds the code to it,
      // so the exchange must carry the matching code_verifier (missing is a mismatch: invalid_grant).
      if (code.challenge) {
        // RFC 7636 §4.6: S256 challenge = base64url(sha256(verifier)); verifier 43–128 unreserved chars.
        const computed = code.method === 'S256' ? base64url(createHash('sha256').update(verifier).digest()) : verifier;
        if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || computed !== code.challenge) return oauthError(400, 'invalid_grant', 'Invalid code verifier.');
      }
      const refresh = this.newRefreshToken(code.scope);
      return json({ access_token: this.newAccessToken(code.scope), expires_in: this.accessTokenSeconds, refresh_token: refresh, scope: code.scope, token_type: 'Bearer' });
    }
    if (grant === 'refresh_token') {
      const refresh = this.refreshTokens.get(form.get('refresh_token') ?? '');
      if (!refresh || refresh.revoked) return oauthError(400, 'invalid_grant', 'Token has been expired or revoked.');
      // Reference §3: a refresh answer carries no refresh_token; the client keeps its own.
      return json({ access_token: this.newAccessToken(refresh.scope, refresh.user), expires_in: this.accessTokenSeconds, scope: refresh.scope, token_type: 'Bearer' });
    }
    return oauthError(400, 'unsupported_grant_type', 'Invalid grant_type');
  }
}

/** JSON with object keys sorted and undefined left out: equal data, equal text, whatever the order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value).filter((k) => (value as Json)[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Json)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Patch semantics: objects merged field by field (null deletes), anything else (arrays too) replaced. */
function mergePatch(target: Json, patch: Json): Json {
  const plain = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete target[k];
    else if (plain(v) && plain(target[k])) target[k] = mergePatch(target[k], v);
    else target[k] = structuredClone(v);
  }
  return target;
}

function splitOnce(text: string): [string, string] {
  const i = text.indexOf('\r\n\r\n');
  return i < 0 ? [text, ''] : [text.slice(0, i), text.slice(i + 4)];
}

export async function startGoogleFake(email?: string): Promise<GoogleFake> {
  return new GoogleFake(email).start();
}
