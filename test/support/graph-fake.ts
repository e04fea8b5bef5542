// A loopback HTTPS fake of the Microsoft Graph calendar endpoints tripcal uses and of the Microsoft
// identity platform's v2.0 endpoints (auth code + PKCE, refresh, device code), for the real
// @microsoft/microsoft-graph-client and @azure/msal-node. HTTPS because graph-client drops the
// Authorization header on plain http (reference §10); the test CA is trusted through
// NODE_EXTRA_CA_CERTS (vitest.config.ts). Rules cite docs/reference/microsoft-graph-calendar.md
// (§n) and the public pages it quotes:
//   EVENT  learn.microsoft.com/graph/api/resources/event          DELTA  …/graph/delta-query-events
//   XP     …/graph/api/singlevaluelegacyextendedproperty-get       BATCH  …/graph/json-batching
//   ERR    …/graph/errors        THR …/graph/throttling            FB  …/graph/outlook-get-free-busy-schedule
//   ID     …/entra/identity-platform/v2-oauth2-auth-code-flow, …/v2-oauth2-device-code, RFC 6749 §5.2, RFC 7636, RFC 8628
//   SUB    …/graph/api/subscription-post-subscriptions, …/subscription-update, …/subscription-delete,
//          …/graph/api/resources/subscription (expirationDateTime limits, clientState ≤ 128 characters)
//   HOOK   …/graph/change-notifications-delivery-webhooks (validation, 202 within 3 s, value[])
//   LIFE   …/graph/change-notifications-lifecycle-events (reauthorizationRequired, subscriptionRemoved, missed)
// Tests drive faults (429/503 with Retry-After, lost answers, expired delta tokens, expired access
// tokens, revoked refresh tokens) and read the fake's state directly.
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { DateTime } from 'luxon';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SCOPE_RW = 'Calendars.ReadWrite';

interface StoredEvent {
  data: Json;
  /** Position in the change log, for delta. */
  seq: number;
  deleted: boolean;
  calendarId: string;
}

export interface FakeCalendar {
  id: string;
  name: string;
  isDefaultCalendar: boolean;
  canEdit: boolean;
}

export interface Fault {
  status: number;
  code?: string;
  retryAfter?: string;
  /** Only requests whose `METHOD path` matches. */
  match?: RegExp;
}

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  /** Part of a $batch. */
  part: boolean;
  /** The JSON body as it arrived (a $batch part's own body), or undefined when there was none. */
  body?: Json;
}

/** A request body for the log: its JSON, or nothing when it has none or is not JSON. */
function logged(body: string): Json | undefined {
  try {
    return body ? JSON.parse(body) : undefined;
  } catch {
    return undefined;
  }
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** A change notification subscription (SUB). */
export interface FakeSubscription {
  id: string;
  resource: string;
  /** The calendar it watches; null for the mailbox's events (`me/events`). */
  calendarId: string | null;
  changeTypes: string[];
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  clientState: string | null;
  /** ms since the epoch. */
  expiration: number;
}

/** A POST the fake made to a subscriber, and what it answered (0: no answer in time). */
export interface SubscriberCall {
  kind: 'validation' | 'notification' | 'lifecycle';
  subscriptionId: string | null;
  count: number;
  status: number;
}

const json = (body: unknown, status = 200, headers?: Record<string, string>): Reply => ({ status, body, headers });

/** ERR: `{error: {code, message, innerError: {request-id, date}}}`. */
function error(status: number, code: string, message: string, headers?: Record<string, string>): Reply {
  return { status, headers, body: { error: { code, message, innerError: { 'request-id': randomUUID(), date: new Date().toISOString().slice(0, 19) } } } };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A key per process: skip and delta tokens are signed, so a token changed by the client is refused (§3.1, §4). */
const TOKEN_KEY = randomBytes(32);
const mac = (text: string) => createHmac('sha256', TOKEN_KEY).update(text).digest('base64url').slice(0, 22);
const seal = (value: unknown) => {
  const text = b64(value);
  return `${text}.${mac(text)}`;
};
const unseal = (token: string): Json | null => {
  const [text, sig] = token.split('.');
  if (!text || !sig || sig.length !== 22 || !timingSafeEqual(Buffer.from(sig), Buffer.from(mac(text)))) return null;
  return unb64(text);
};
const unb64 = (value: string): Json | null => {
  try {
    return JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
};
const sha = (text: string) => createHash('sha256').update(text).digest('base64url');

/** Graph's dateTime form: `2024-03-15T09:00:00.0000000`, no offset, 7 fractional digits (§2, EVENT dateTimeTimeZone). */
const graphDateTime = (dt: DateTime) => `${dt.toFormat("yyyy-MM-dd'T'HH:mm:ss")}.0000000`;
/** §2: lastModifiedDateTime / createdDateTime are UTC ISO ending in Z (Graph writes 7 fractional digits). */
const graphStamp = () => `${new Date().toISOString().slice(0, 23)}0000Z`;
/** EVENT dateTimeTimeZone.dateTime on input: a wall time, seconds optional, at most 7 fractional digits, no offset (§2). */
const WALL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?$/;
/** EVENT reminderMinutesBeforeStart is Edm.Int32. */
const INT32_MAX = 2_147_483_647;
/**
 * EVENT: the writable properties of an event. OData refuses a property its type does not have
 * (400 "The property '…' does not exist on type 'microsoft.graph.event'"); read-only ones are dropped.
 */
const EVENT_PROPERTIES = new Set([
  'subject', 'body', 'start', 'end', 'isAllDay', 'location', 'locations', 'isReminderOn', 'reminderMinutesBeforeStart', 'showAs',
  'sensitivity', 'importance', 'categories', 'attendees', 'recurrence', 'responseRequested', 'allowNewTimeProposals', 'isOnlineMeeting',
  'onlineMeetingProvider', 'hideAttendees', 'transactionId', 'singleValueExtendedProperties', 'multiValueExtendedProperties',
  'isCancelled', 'originalStartTimeZone', 'originalEndTimeZone', '@odata.type',
]);
/** The OData system query options each collection takes (§4); anything else starting with $ is refused. */
const QUERY_OPTIONS = new Set(['$top', '$skip', '$filter', '$expand', '$select', '$orderby', '$count', '$search', '$skiptoken', '$deltatoken']);

/**
 * Windows zone names Graph accepts and may give back for the same zone (dateTimeTimeZone: "one of
 * the time zone values … or the IANA names"). A sample of CLDR's windowsZones.xml
 * (unicode-org/cldr common/supplemental/windowsZones.xml, territory 001), written here by hand so
 * the fake shares no table with tripcal.
 */
export const WINDOWS_ZONES: Record<string, string> = {
  'Tokyo Standard Time': 'Asia/Tokyo',
  'W. Europe Standard Time': 'Europe/Berlin',
  'GMT Standard Time': 'Europe/London',
  'Eastern Standard Time': 'America/New_York',
  'Pacific Standard Time': 'America/Los_Angeles',
  'India Standard Time': 'Asia/Calcutta',
  'Nepal Standard Time': 'Asia/Katmandu',
  'AUS Eastern Standard Time': 'Australia/Sydney',
  'Arabian Standard Time': 'Asia/Dubai',
  'Romance Standard Time': 'Europe/Paris',
  'Chatham Islands Standard Time': 'Pacific/Chatham',
  'UTC': 'Etc/UTC',
};

/** The IANA zone a Graph timeZone names (Windows or IANA), or null when Graph would refuse it. */
function ianaOf(name: string): string | null {
  const zone = WINDOWS_ZONES[name] ?? name;
  if (zone === 'UTC') return 'UTC';
  return zone.includes('/') && DateTime.local().setZone(zone).isValid ? zone : null;
}

/** The Windows name of an IANA zone, when the sample has one. */
function windowsOf(zone: string): string | undefined {
  return Object.entries(WINDOWS_ZONES).find(([, iana]) => iana === zone || (zone === 'Asia/Kolkata' && iana === 'Asia/Calcutta') || (zone === 'Asia/Kathmandu' && iana === 'Asia/Katmandu'))?.[0];
}

function instantOf(t: Json | undefined): number {
  if (!t?.dateTime || !t.timeZone) return Number.NaN;
  const zone = ianaOf(String(t.timeZone));
  if (!zone) return Number.NaN;
  return DateTime.fromISO(String(t.dateTime), { zone: zone === 'UTC' ? 'utc' : zone }).toMillis();
}

/** The Prefer header's preferences (§2: several in one header, comma-separated). */
function preferences(header: string | undefined): Map<string, string> {
  const prefs = new Map<string, string>();
  for (const part of (header ?? '').split(',')) {
    const m = /^\s*([\w.-]+)\s*=\s*"?([^"]*)"?\s*$/.exec(part);
    if (m) prefs.set(m[1]!.toLowerCase(), m[2]!);
  }
  return prefs;
}

/**
 * XP: the id formats, "String {guid} Name X", "Integer {guid} Id 0x8012" and "String 0x4001"
 * (a property tag), with the MAPI types Graph names. Anything else is refused.
 */
const PROPERTY_ID = /^(String|Integer|Boolean|SystemTime|Long|Double|Binary|CLSID|Short|Currency|Float|Object) (\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\} (Name [^\s]+|Id 0x[0-9a-f]{1,4})|0x[0-9a-f]{4})$/i;
/** XP: one property, however its GUID and type are cased; the Name part is matched case-sensitively. */
function propertyKey(id: string): string {
  const m = /^(\S+) (\{[^}]+\}) (Name|Id) (.+)$/i.exec(id);
  return m ? `${m[1]!.toLowerCase()} ${m[2]!.toLowerCase()} ${m[3]!.toLowerCase()} ${m[3]!.toLowerCase() === 'id' ? m[4]!.toLowerCase() : m[4]}` : id.toLowerCase();
}

/** A refusal thrown from deep inside a handler, answered as is. */
class Refusal extends Error {
  constructor(readonly reply: Reply) {
    super('refused');
  }
}

const READ_ONLY = ['id', 'changeKey', '@odata.etag', 'createdDateTime', 'lastModifiedDateTime', 'iCalUId', 'webLink', 'originalStartTimeZone', 'originalEndTimeZone', 'type'];

export class GraphFake {
  /** Where the test certificate is (a bundled copy of this file, as the benchmarks use, says so). */
  static tlsDir = new URL('./tls/', import.meta.url);
  readonly clientId = '3f6e9d41-7c2b-4a51-9a3e-0c5b1d2e8f70';
  readonly tenant = 'e1d2c3b4-a596-4877-8899-aabbccddeeff';
  url = '';
  readonly calendars = new Map<string, FakeCalendar>();
  readonly events = new Map<string, StoredEvent>();
  readonly requests: FakeRequest[] = [];
  /** Default page size when the client asks for none (§4: 10 for events and calendarView). */
  defaultPageSize = 10;
  /** The most a client may ask for with $top / odata.maxpagesize. */
  maxPageSize = 1000;
  /** Delta rounds repeat some events and put empty pages before the last (§3.2, §3.4). */
  raggedDelta = false;
  /** Answer an expired delta token with this status (§3.6: 410, or a 40X with syncStateNotFound). */
  expiredDeltaStatus = 410;
  /** getSchedule refuses longer spans (FB: "must be less than 42 days"). */
  scheduleMaxDays = 42;
  /** A personal account: getSchedule is not supported (§1a). */
  personalAccount = false;
  /** BATCH, THR: parallel parts of one $batch that reach the mailbox; the rest are throttled (null: no limit). */
  batchConcurrency: number | null = 4;
  /** THR: concurrent requests per app per mailbox (Outlook: 4); more in flight get 429 ApplicationThrottled (null: no limit). */
  mailboxConcurrency: number | null = 4;
  /** How long a Graph call takes to answer (a real mailbox takes tens of milliseconds; 0 answers at once). */
  latencyMs = 0;
  /** Give zones back by their Windows names, as Outlook does for an event it re-saved (§2). */
  windowsZoneNames = false;
  /** Hand out @odata.nextLink / deltaLink on this origin instead of our own (a hostile or broken server). */
  linkOrigin: string | null = null;
  accessTokenSeconds = 3600;
  randomFaults: { rate: number; faults: Fault[]; random: () => number } | null = null;
  afterWrite: ((count: number) => void) | null = null;
  beforeWrite: ((method: string, eventId: string | undefined) => void) | null = null;
  writes = 0;
  faultsServed = 0;
  readonly tokenRequests: URLSearchParams[] = [];
  readonly issued: string[] = [];
  /** ID device code: the polling interval handed out, in seconds (RFC 8628 §3.2). */
  deviceInterval = 1;
  /** Scopes the user grants (a consent that leaves some out). */
  grantedScopes: string[] | null = null;
  readonly subscriptions = new Map<string, FakeSubscription>();
  /** Every POST made to a subscriber (validations, notifications, lifecycle notifications). */
  readonly subscriberCalls: SubscriberCall[] = [];
  /** SUB: Outlook event subscriptions last at most 10,080 minutes (under 7 days). */
  subscriptionMaxMinutes = 10_080;
  /** SUB: Outlook allows 1,000 active subscriptions per mailbox (all apps together). */
  maxSubscriptions = 1000;
  /** HOOK: the validation request must be answered within 10 seconds. */
  validationTimeoutMs = 10_000;
  /** Changes within this window go out together, batched in one value[] per notification URL. */
  notifyBatchMs = 30;
  /** Where a POST for `url` (https) really goes: the test's stand-in for the internet and tripcal's reverse proxy. */
  reach: (url: string) => string = (url) => url;

  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly pendingNotices = new Map<string, Json[]>();
  private readonly sending = new Set<Promise<unknown>>();
  private seq = 1;
  private inFlight = 0;
  private deltaGeneration = 0;
  private readonly faults: Fault[] = [];
  private loseAnswers = 0;
  private readonly transactions = new Map<string, { eventId: string; payload: string }>();
  private readonly codes = new Map<string, { challenge: string; method: string; redirectUri: string; clientId: string; scope: string; used: boolean; expires: number }>();
  private readonly accessTokens = new Map<string, { expires: number; scope: string }>();
  private readonly refreshTokens = new Map<string, { revoked: boolean; scope: string }>();
  private readonly deviceCodes = new Map<string, { userCode: string; scope: string; consented: string; state: 'pending' | 'approved' | 'declined'; expires: number; polls: number; lastPoll: number }>();

  constructor(readonly email = 'traveller@contoso.example', readonly userName = 'Tess Traveller') {
    this.addCalendar({ id: this.newId('cal'), name: 'Calendar', isDefaultCalendar: true, canEdit: true });
  }

  addCalendar(c: FakeCalendar): FakeCalendar {
    this.calendars.set(c.id, c);
    return c;
  }

  get defaultCalendar(): FakeCalendar {
    return [...this.calendars.values()].find((c) => c.isDefaultCalendar)!;
  }

  async start(): Promise<this> {
    this.server = createServer({ cert: readFileSync(new URL('cert.pem', GraphFake.tlsDir)), key: readFileSync(new URL('key.pem', GraphFake.tlsDir)) },
      (req, res) => void this.onRequest(req, res));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** What tripcal's config takes: `outlook.graph_url` and `outlook.authority`. */
  get graphUrl(): string {
    return `${this.url}/`;
  }

  get authority(): string {
    return `${this.url}/${this.tenant}`;
  }

  // ---- test controls --------------------------------------------------------------------------

  failNext(fault: Fault, times = 1): void {
    for (let i = 0; i < times; i++) this.faults.push(fault);
  }

  /** The next N Graph requests are carried out, but the connection drops before the answer. */
  loseNextAnswers(n: number): void {
    this.loseAnswers += n;
  }

  /** Every delta link and skip link given so far is dead (§3.6). */
  expireDeltaTokens(status = 410): void {
    this.deltaGeneration += 1;
    this.expiredDeltaStatus = status;
  }

  expireAccessTokens(): void {
    for (const t of this.accessTokens.values()) t.expires = 0;
  }

  revokeRefreshTokens(): void {
    for (const t of this.refreshTokens.values()) t.revoked = true;
    this.expireAccessTokens();
  }

  /** The user approves (or declines) a device code on the verification page (RFC 8628 §3.3). */
  answerDeviceCode(userCode: string, approve = true): void {
    const entry = [...this.deviceCodes.values()].find((d) => d.userCode === userCode);
    if (!entry) throw new Error(`no device code ${userCode}`);
    entry.state = approve ? 'approved' : 'declined';
  }

  get pendingUserCodes(): string[] {
    return [...this.deviceCodes.values()].filter((d) => d.state === 'pending').map((d) => d.userCode);
  }

  liveEvents(calendarId = this.defaultCalendar.id): Json[] {
    return [...this.events.values()].filter((e) => !e.deleted && e.calendarId === calendarId).map((e) => this.render(e, new Map([['outlook.timezone', 'UTC'], ['outlook.body-content-type', 'text']]), true));
  }

  /** The value of our extended property on an event, as a test reads it. */
  propertyOf(event: Json, id: string): string | undefined {
    return (event.singleValueExtendedProperties as Json[] | undefined)?.find((p) => p.id.toLowerCase() === id.toLowerCase())?.value;
  }

  /** As if the user edited the event in Outlook: fields merged, changeKey moved. */
  editAsUser(eventId: string, changes: Json): void {
    const stored = this.events.get(eventId);
    if (!stored || stored.deleted) throw new Error(`no event ${eventId}`);
    Object.assign(stored.data, changes);
    this.touch(stored);
  }

  deleteAsUser(eventId: string): void {
    const stored = this.events.get(eventId);
    if (!stored || stored.deleted) throw new Error(`no event ${eventId}`);
    stored.deleted = true;
    this.touch(stored);
  }

  /** An event the user made themselves (not ours). */
  addUserEvent(event: Json, calendarId = this.defaultCalendar.id): Json {
    const stored: StoredEvent = { data: { ...event, id: this.newId('evt'), createdDateTime: graphStamp() }, seq: 0, deleted: false, calendarId };
    this.touch(stored);
    this.events.set(stored.data.id, stored);
    return stored.data;
  }

  /** Subscriptions not expired (SUB: Graph deletes an expired one; it sends nothing more). */
  liveSubscriptions(): FakeSubscription[] {
    return [...this.subscriptions.values()].filter((sub) => sub.expiration > Date.now());
  }

  /**
   * LIFE: a lifecycle notification to the subscription's lifecycleNotificationUrl, as Graph sends
   * it: {value: [{subscriptionId, subscriptionExpirationDateTime, tenantId, clientState,
   * lifecycleEvent}]}. subscriptionRemoved also ends the subscription. Resolves to the answer's status.
   */
  async sendLifecycle(subscriptionId: string, lifecycleEvent: 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed'): Promise<number> {
    const sub = this.subscriptions.get(subscriptionId);
    if (!sub?.lifecycleNotificationUrl) throw new Error(`no subscription ${subscriptionId} with a lifecycle URL`);
    const notice = {
      subscriptionId, subscriptionExpirationDateTime: new Date(sub.expiration).toISOString(), tenantId: this.tenant,
      clientState: sub.clientState, lifecycleEvent,
    };
    if (lifecycleEvent === 'subscriptionRemoved') this.subscriptions.delete(subscriptionId);
    return this.post('lifecycle', subscriptionId, sub.lifecycleNotificationUrl, { value: [notice] }, 1);
  }

  /** Notifications are sent asynchronously: resolves when every one due so far has been answered. */
  async notificationsSettled(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.notifyBatchMs + 10));
    while (this.sending.size > 0) await Promise.allSettled([...this.sending]);
  }

  /** Tokens a test can hand to tripcal as if a sign-in had run (an MSAL cache is built from them). */
  issueTokens(scope = `${SCOPE_RW} openid profile offline_access`): Json {
    return this.tokenResponse(scope);
  }

  // ---- HTTP ------------------------------------------------------------------------------------

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const graphCall = (req.url ?? '').startsWith('/v1.0/');
    if (graphCall) {
      this.inFlight += 1;
      res.on('close', () => {
        this.inFlight -= 1;
      });
    }
    const chunks: Buffer[] = [];
    try {
      for await (const c of req) chunks.push(c as Buffer);
    } catch {
      return; // the client went away mid-body
    }
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.url);
    const headers = req.headers as Record<string, string>;
    let reply: Reply;
    try {
      // THR: Outlook allows 4 concurrent requests per app per mailbox; the next one in flight is
      // 429 ApplicationThrottled "over its MailboxConcurrency limit", with Retry-After (§6).
      if (graphCall && this.mailboxConcurrency !== null && this.inFlight > this.mailboxConcurrency) {
        this.faultsServed += 1;
        this.requests.push({ method: req.method ?? 'GET', path: url.pathname.slice('/v1.0'.length), query: url.searchParams, headers, part: false });
        reply = error(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'retry-after': '1' });
      } else if (/^\/v1\.0\/subscriptions(\/|$)/.test(url.pathname)) {
        // Async: a create waits for the subscriber's answer to the validation request.
        reply = await this.subscriptionRequest(req.method ?? 'GET', url, headers, body);
      } else reply = url.pathname.startsWith(`/${this.tenant}/`) || url.pathname.startsWith('/common/')
        ? this.identity(req.method ?? 'GET', url, body)
        : this.graph(req.method ?? 'GET', url, headers, body, false);
    } catch (e) {
      if (e instanceof Refusal) reply = e.reply;
      else reply = error(500, 'generalException', `General exception while processing (${(e as Error).message})`);
    }
    if (this.loseAnswers > 0 && url.pathname.startsWith('/v1.0/')) {
      this.loseAnswers -= 1;
      this.faultsServed += 1;
      req.socket.destroy();
      return;
    }
    const out: Record<string, string> = { ...reply.headers };
    let text = '';
    if (typeof reply.body === 'string') text = reply.body;
    else if (reply.body !== undefined) {
      text = JSON.stringify(reply.body);
      out['content-type'] ??= 'application/json; charset=utf-8';
    }
    if (graphCall && this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    res.writeHead(reply.status, out);
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
    // THR: 429 TooManyRequests with Retry-After in seconds; 503/504 may carry it too (ERR).
    const code = f.code ?? (f.status === 429 ? 'TooManyRequests' : f.status === 503 ? 'serviceNotAvailable' : f.status === 504 ? 'gatewayTimeout' : 'generalException');
    // THR: a 429 always carries Retry-After (seconds); a test may give its own value.
    const retryAfter = f.retryAfter ?? (f.status === 429 ? '1' : undefined);
    return error(f.status, code, f.status === 429 ? 'Please retry again later.' : 'The service is temporarily unavailable.', retryAfter ? { 'retry-after': retryAfter } : undefined);
  }

  private graph(method: string, url: URL, headers: Record<string, string>, body: string, part: boolean): Reply {
    if (!url.pathname.startsWith('/v1.0/')) return error(404, 'BadRequest', 'Resource not found for the segment.');
    const path = url.pathname.slice('/v1.0'.length);
    this.requests.push({ method, path, query: url.searchParams, headers, part, body: logged(body) });
    const fault = this.nextFault(method, path);
    if (fault) {
      this.faultsServed += 1;
      return this.faultReply(fault);
    }
    // ERR 401 InvalidAuthenticationToken: missing, expired or unknown bearer (a $batch part rides on the outer one).
    if (!part) {
      const token = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
      const grant = token ? this.accessTokens.get(token) : undefined;
      if (!token) return error(401, 'InvalidAuthenticationToken', 'Access token is empty.');
      if (!grant || grant.expires <= Date.now()) return error(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.');
      if (!grant.scope.split(' ').includes(SCOPE_RW)) return error(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
    }
    if (path === '/$batch' && method === 'POST' && !part) return this.batch(url, headers, body);
    let parsed: Json = {};
    if (body) {
      try {
        parsed = JSON.parse(body);
      } catch {
        return error(400, 'BadRequest', 'Unable to read JSON request payload.');
      }
    }
    const prefs = preferences(headers.prefer);
    const refused = this.checkQuery(url) ?? this.checkPrefer(prefs);
    if (refused) return refused;
    if (path === '/me/calendars' && method === 'GET') return this.page(url, [...this.calendars.values()].map((c) => this.renderCalendar(c)), prefs);
    if (path === '/me/calendars' && method === 'POST') {
      if (!parsed.name) return error(400, 'ErrorInvalidRequest', 'Name is required.');
      if ([...this.calendars.values()].some((c) => c.name === parsed.name)) return error(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
      return json(this.renderCalendar(this.addCalendar({ id: this.newId('cal'), name: parsed.name, isDefaultCalendar: false, canEdit: true })), 201);
    }
    if (path === '/me/calendar' && method === 'GET') return json(this.renderCalendar(this.defaultCalendar));
    if (path === '/me/calendar/getSchedule' && method === 'POST') return this.getSchedule(parsed, prefs);
    // §1: /me/calendarView and /me/calendarView/delta are the primary calendar's.
    const cal = /^\/me\/(?:calendars\/([^/]+)|calendar)(\/.*)$/.exec(path.replace(/^\/me\/calendarView(?=\/|$)/, '/me/calendar/calendarView'));
    if (cal) {
      const calendar = cal[1] ? this.calendars.get(decodeURIComponent(cal[1])) : this.defaultCalendar;
      if (!calendar) return error(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      const rest = cal[2]!;
      if (rest === '/events' && method === 'POST') return this.create(calendar, parsed, prefs);
      if (rest === '/events' && method === 'GET') return this.list(calendar, url, prefs);
      if (rest === '/calendarView/delta' && method === 'GET') return this.delta(calendar, url, prefs);
      if (rest === '/calendarView' && method === 'GET') return this.calendarView(calendar, url, prefs);
      const one = /^\/events\/([^/]+)$/.exec(rest);
      if (one) return this.oneEvent(method, decodeURIComponent(one[1]!), url, headers, parsed, prefs);
    }
    if (path === '/me/events' && method === 'POST') return this.create(this.defaultCalendar, parsed, prefs);
    const one = /^\/me\/events\/([^/]+)$/.exec(path);
    if (one) return this.oneEvent(method, decodeURIComponent(one[1]!), url, headers, parsed, prefs);
    return error(400, 'BadRequest', `Resource not found for the segment '${path.split('/').pop()}'.`);
  }

  /**
   * OData query rules (§4): a system query option given twice is refused ("Query option '$top' was
   * specified more than once"), as is one Graph does not know; $top is a positive integer (§4:
   * `$top` sets the page size on list and calendarView). A nextLink followed as given never trips these.
   */
  private checkQuery(url: URL): Reply | null {
    const seen = new Set<string>();
    for (const key of url.searchParams.keys()) {
      const k = key.toLowerCase();
      if (seen.has(k)) return error(400, 'BadRequest', `Query option '${key}' was specified more than once, but it must be specified at most once.`);
      seen.add(k);
      if (k.startsWith('$') && !QUERY_OPTIONS.has(k)) return error(400, 'BadRequest', `The query parameter '${key}' is not supported.`);
    }
    const top = url.searchParams.get('$top');
    if (top !== null && !/^[1-9]\d*$/.test(top)) return error(400, 'BadRequest', `Invalid value '${top}' for $top query option found. The $top query option requires a non-negative integer value.`);
    return null;
  }

  /**
   * §2: `Prefer: outlook.timezone` must name a zone Graph knows (Windows or IANA); an unknown one is
   * an error [obs learn Q&A 1324397]. outlook.body-content-type is "text" or "html" (EVENT body).
   */
  private checkPrefer(prefs: Map<string, string>): Reply | null {
    const zone = prefs.get('outlook.timezone');
    if (zone !== undefined && !ianaOf(zone)) return error(400, 'TimeZoneNotSupportedException', `A valid TimeZone value must be specified. The following TimeZone value is not supported: '${zone}'.`);
    const type = prefs.get('outlook.body-content-type');
    if (type !== undefined && !['text', 'html'].includes(type.toLowerCase())) return error(400, 'ErrorInvalidRequest', `Invalid outlook.body-content-type preference '${type}'.`);
    return null;
  }

  private oneEvent(method: string, id: string, url: URL, headers: Record<string, string>, body: Json, prefs: Map<string, string>): Reply {
    const stored = this.events.get(id);
    // ERR 404 ErrorItemNotFound.
    if (!stored || stored.deleted) return error(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    if (method === 'GET') return json(this.render(stored, prefs, this.expandFilter(url)));
    if (method !== 'PATCH' && method !== 'DELETE') return error(405, 'ErrorInvalidRequest', 'The OData request is not supported.');
    this.beforeWrite?.(method, id);
    if (stored.deleted) return error(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    // §5: If-Match with the @odata.etag; a stale one gets 412 ErrorIrresolvableConflict.
    const ifMatch = headers['if-match'];
    if (ifMatch && ifMatch !== '*' && ifMatch !== this.etagOf(stored)) {
      return error(412, 'ErrorIrresolvableConflict', 'The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.');
    }
    if (method === 'DELETE') {
      stored.deleted = true;
      this.touch(stored);
      this.wrote();
      return { status: 204 };
    }
    const unknown = this.unknownProperty(body);
    if (unknown) return unknown;
    // EVENT transactionId: set on POST only; it cannot be changed later (§2).
    if (body.transactionId !== undefined && body.transactionId !== (stored.data.transactionId ?? null)) {
      return error(400, 'ErrorInvalidPropertyUpdate', 'The property transactionId can only be set when the event is created.');
    }
    const next = { ...stored.data, ...this.clean(body) };
    this.placeLocations(next, body);
    if (body.singleValueExtendedProperties) next.singleValueExtendedProperties = this.mergeProperties(stored.data.singleValueExtendedProperties, body.singleValueExtendedProperties);
    const invalid = this.validate(next);
    if (invalid) return invalid;
    stored.data = next;
    this.touch(stored);
    this.wrote();
    return json(this.render(stored, prefs, false));
  }

  private renderCalendar(c: FakeCalendar): Json {
    return { id: c.id, name: c.name, changeKey: sha(c.id).slice(0, 20), canEdit: c.canEdit, isDefaultCalendar: c.isDefaultCalendar, owner: { name: this.userName, address: this.email } };
  }

  private newId(prefix: string): string {
    // Opaque, long, base64-ish like real ids (AAMkAG…); '-' and '_' included to test encoding.
    return `AAMk${prefix}${randomBytes(24).toString('base64url')}`;
  }

  private etagOf(stored: StoredEvent): string {
    return `W/"${stored.data.changeKey}"`;
  }

  private touch(stored: StoredEvent): void {
    this.changed(stored, stored.deleted ? 'deleted' : stored.seq === 0 ? 'created' : 'updated');
    stored.seq = this.seq++;
    // EVENT: changeKey changes on every modification; @odata.etag is W/"<changeKey>" (§2).
    stored.data.changeKey = randomBytes(12).toString('base64');
    stored.data.lastModifiedDateTime = graphStamp();
  }

  private wrote(): void {
    this.writes += 1;
    this.afterWrite?.(this.writes);
  }

  /** EVENT: a property the event type does not have is a 400 (OData), not silently kept. */
  private unknownProperty(body: Json): Reply | null {
    const bad = Object.keys(body).find((k) => !EVENT_PROPERTIES.has(k) && !READ_ONLY.includes(k) && !k.startsWith('@odata.'));
    return bad ? error(400, 'RequestBodyRead', `The property '${bad}' does not exist on type 'microsoft.graph.event'. Make sure to only use property names that are defined by the type or mark the type as open type.`) : null;
  }

  /**
   * EVENT location / locations: writing `location` replaces the whole `locations` collection (§2);
   * writing `locations` makes `location` its first entry (or empty).
   */
  private placeLocations(next: Json, body: Json): void {
    if (body.location !== undefined) next.locations = body.location?.displayName ? [body.location] : [];
    else if (Array.isArray(body.locations)) next.location = body.locations[0] ?? { displayName: '' };
  }

  private clean(body: Json): Json {
    const copy = { ...body };
    for (const k of READ_ONLY) delete copy[k];
    delete copy.singleValueExtendedProperties;
    return copy;
  }

  private mergeProperties(old: Json[] | undefined, given: Json[]): Json[] {
    const merged = new Map<string, Json>((old ?? []).map((p) => [propertyKey(p.id), p]));
    for (const p of given) merged.set(propertyKey(String(p.id)), { id: p.id, value: p.value });
    return [...merged.values()];
  }

  /** EVENT field rules; §2 isAllDay: midnight to midnight, the same zone, whole days. */
  private validate(e: Json): Reply | null {
    for (const side of ['start', 'end'] as const) {
      const t = e[side];
      if (!t?.dateTime || !t.timeZone) return error(400, 'ErrorInvalidRequest', `Your request can't be completed. The ${side} time is missing or has no time zone.`);
      if (/(Z|[+-]\d\d:?\d\d)$/.test(t.dateTime)) return error(400, 'ErrorInvalidRequest', 'dateTime must not carry an offset; the zone goes in timeZone.');
      if (!WALL_TIME.test(String(t.dateTime))) return error(400, 'ErrorInvalidRequest', `Cannot convert the literal '${t.dateTime}' to the expected type 'Edm.DateTimeOffset'.`);
      if (!ianaOf(String(t.timeZone))) return error(400, 'TimeZoneNotSupportedException', `A valid TimeZone value must be specified. The following TimeZone value is not supported: '${t.timeZone}'.`);
      if (Number.isNaN(instantOf(t))) return error(400, 'ErrorInvalidRequest', `Cannot convert the literal '${t.dateTime}' to the expected type 'Edm.DateTimeOffset'.`);
    }
    const start = instantOf(e.start);
    const end = instantOf(e.end);
    if (end < start) return error(400, 'ErrorInvalidRequest', 'Your request can\'t be completed. The end time must be after the start time.');
    if (e.isAllDay) {
      const midnight = (t: Json) => /T00:00:00(\.0+)?$/.test(t.dateTime);
      if (!midnight(e.start) || !midnight(e.end) || e.start.timeZone !== e.end.timeZone || end === start) {
        return error(400, 'ErrorInvalidRequest', 'Your request can\'t be completed. If the event is an all-day event, start and end must be midnight in the same time zone, at least a day apart.');
      }
    }
    // EVENT reminderMinutesBeforeStart: Edm.Int32, minutes before the start (not negative); isReminderOn: Edm.Boolean.
    if (e.reminderMinutesBeforeStart !== undefined && (!Number.isInteger(e.reminderMinutesBeforeStart) || e.reminderMinutesBeforeStart < 0 || e.reminderMinutesBeforeStart > INT32_MAX)) {
      return error(400, 'ErrorInvalidRequest', 'Invalid value for reminderMinutesBeforeStart.');
    }
    if (e.isReminderOn !== undefined && typeof e.isReminderOn !== 'boolean') return error(400, 'BadRequest', 'Cannot convert a primitive value to the expected type \'Edm.Boolean\'.');
    if (e.isAllDay !== undefined && typeof e.isAllDay !== 'boolean') return error(400, 'BadRequest', 'Cannot convert a primitive value to the expected type \'Edm.Boolean\'.');
    if (e.transactionId !== undefined && e.transactionId !== null && typeof e.transactionId !== 'string') return error(400, 'BadRequest', 'transactionId must be a string.');
    if (e.location !== undefined && (typeof e.location !== 'object' || e.location === null || Array.isArray(e.location))) return error(400, 'BadRequest', 'location must be a location object.');
    if (e.locations !== undefined && !Array.isArray(e.locations)) return error(400, 'BadRequest', 'locations must be a collection.');
    if (e.showAs && !['free', 'tentative', 'busy', 'oof', 'workingElsewhere', 'unknown'].includes(e.showAs)) return error(400, 'BadRequest', `Invalid value for showAs: ${e.showAs}`);
    if (e.body && !['text', 'html'].includes(String(e.body.contentType).toLowerCase())) return error(400, 'BadRequest', 'Invalid body contentType.');
    for (const p of (e.singleValueExtendedProperties ?? []) as Json[]) {
      // XP: id formats "String {guid} Name X" etc.; value is always a string.
      if (!PROPERTY_ID.test(String(p.id))) return error(400, 'ErrorInvalidExtendedPropertyValue', `Invalid extended property id: ${p.id}`);
      if (typeof p.value !== 'string') return error(400, 'ErrorInvalidExtendedPropertyValue', 'Extended property value must be a string.');
    }
    return null;
  }

  private create(calendar: FakeCalendar, body: Json, prefs: Map<string, string>): Reply {
    if (!calendar.canEdit) return error(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
    this.beforeWrite?.('POST', undefined);
    // EVENT transactionId (§2): a create repeated with the same id gives the first event back;
    // the same id for a different event is ErrorDuplicateTransactionId.
    const tx = body.transactionId as string | undefined;
    const payload = JSON.stringify({ ...body, transactionId: undefined });
    if (tx) {
      const seen = this.transactions.get(tx);
      if (seen) {
        const existing = this.events.get(seen.eventId);
        if (seen.payload === payload && existing && !existing.deleted) return json(this.render(existing, prefs, false), 201);
        return error(400, 'ErrorDuplicateTransactionId', `TransactionId ${tx} has already been used to create a different event.`);
      }
    }
    const unknown = this.unknownProperty(body);
    if (unknown) return unknown;
    const data: Json = { ...this.clean(body), id: this.newId('evt'), createdDateTime: graphStamp() };
    this.placeLocations(data, body);
    data.singleValueExtendedProperties = this.mergeProperties([], body.singleValueExtendedProperties ?? []);
    data.isReminderOn ??= true;
    data.reminderMinutesBeforeStart ??= 15; // §2: Outlook's usual default
    data.showAs ??= 'busy';
    const invalid = this.validate(data);
    if (invalid) return invalid;
    const stored: StoredEvent = { data, seq: 0, deleted: false, calendarId: calendar.id };
    this.touch(stored);
    this.events.set(data.id, stored);
    if (tx) this.transactions.set(tx, { eventId: data.id, payload });
    this.wrote();
    return json(this.render(stored, prefs, false), 201);
  }

  /** XP: `$expand=singleValueExtendedProperties($filter=id eq '…')` is the only way to read one back. */
  private expandFilter(url: URL): string | false {
    const expand = url.searchParams.get('$expand');
    if (!expand) return false;
    const m = /^singleValueExtendedProperties\(\$filter=id eq '([^']+)'\)$/.exec(expand);
    // XP: only the id filter reads a property back; anything else here is refused (400, not a crash).
    if (!m) throw new Refusal(error(400, 'BadRequest', `Parsing OData Select and Expand failed: unsupported $expand '${expand}'.`));
    if (!PROPERTY_ID.test(m[1]!)) throw new Refusal(error(400, 'ErrorInvalidExtendedPropertyValue', `Invalid extended property id: ${m[1]}`));
    return m[1]!;
  }

  /** The event as Graph returns it: times in the Prefer zone (default UTC), all-day ones as created (§2). */
  private zoneName(zone: string): string {
    return this.windowsZoneNames ? windowsOf(ianaOf(zone) ?? zone) ?? zone : zone;
  }

  private link(href: string): string {
    return this.linkOrigin ? href.replace(this.url, this.linkOrigin) : href;
  }

  private render(stored: StoredEvent, prefs: Map<string, string>, expand: string | boolean): Json {
    const e = stored.data;
    const zone = prefs.get('outlook.timezone') ?? 'UTC';
    const time = (t: Json) => {
      if (e.isAllDay) return { dateTime: graphDateTime(DateTime.fromISO(t.dateTime)), timeZone: this.zoneName(t.timeZone) };
      const iana = ianaOf(zone) ?? 'UTC';
      const shown = DateTime.fromMillis(instantOf(t), { zone: iana === 'UTC' ? 'utc' : iana });
      return { dateTime: graphDateTime(shown), timeZone: zone };
    };
    const text = prefs.get('outlook.body-content-type') === 'text';
    let body = e.body ?? { contentType: 'html', content: '' };
    if (!text && String(body.contentType).toLowerCase() === 'text') {
      body = { contentType: 'html', content: `<html><body>${String(body.content).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/\n/g, '<br>')}</body></html>` };
    } else if (text) body = { contentType: 'text', content: String(body.content).replace(/<[^>]+>/g, '') };
    const out: Json = {
      '@odata.etag': this.etagOf(stored),
      ...e,
      body,
      start: time(e.start),
      end: time(e.end),
      originalStartTimeZone: this.zoneName(e.start.timeZone),
      originalEndTimeZone: this.zoneName(e.end.timeZone),
      type: 'singleInstance',
      iCalUId: `040000008200E00074C5B7101A82E008${sha(e.id).slice(0, 24)}`,
      webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(e.id)}&exvsurl=1&path=/calendar/item`,
      location: e.location ?? { displayName: '' },
      locations: e.locations ?? (e.location?.displayName ? [e.location] : []),
      // EVENT: transactionId is null unless the app set it.
      transactionId: e.transactionId ?? null,
    };
    delete out.singleValueExtendedProperties;
    if (expand === true) out.singleValueExtendedProperties = e.singleValueExtendedProperties;
    else if (typeof expand === 'string') {
      // XP: reached with the id as written (the Name part is case-sensitive; the GUID is a GUID).
      const found = (e.singleValueExtendedProperties as Json[] | undefined)?.filter((p) => propertyKey(p.id) === propertyKey(expand)) ?? [];
      if (found.length) out.singleValueExtendedProperties = found;
    }
    return out;
  }

  private pageSize(url: URL, prefs: Map<string, string>): number {
    const asked = Number(url.searchParams.get('$top') ?? prefs.get('odata.maxpagesize') ?? this.defaultPageSize);
    return Math.max(1, Math.min(asked, this.maxPageSize));
  }

  /** §4: server-driven paging with an absolute https @odata.nextLink. */
  private page(url: URL, all: Json[], prefs: Map<string, string>): Reply {
    const size = this.pageSize(url, prefs);
    const skip = Number(url.searchParams.get('$skip') ?? 0);
    const value = all.slice(skip, skip + size);
    const out: Json = { value };
    if (skip + size < all.length) {
      const next = new URL(url.href);
      next.searchParams.set('$skip', String(skip + size));
      out['@odata.nextLink'] = this.link(next.href);
    }
    return json(out);
  }

  /** XP: events found by `$filter=singleValueExtendedProperties/Any(ep: ep/id eq '…' and ep/value eq '…')`. */
  private list(calendar: FakeCalendar, url: URL, prefs: Map<string, string>): Reply {
    const filter = url.searchParams.get('$filter');
    let match: (e: StoredEvent) => boolean = () => true;
    if (filter) {
      const m = /^singleValueExtendedProperties\/Any\(ep: ep\/id eq '([^']+)' and ep\/value eq '([^']*)'\)$/.exec(filter);
      if (!m) return error(400, 'ErrorInvalidUrlQueryFilter', 'The query filter contains one or more invalid nodes.');
      // XP: the Name part is case-sensitive, the value is not.
      if (!PROPERTY_ID.test(m[1]!)) return error(400, 'ErrorInvalidExtendedPropertyValue', `Invalid extended property id: ${m[1]}`);
      match = (e) => ((e.data.singleValueExtendedProperties ?? []) as Json[]).some((p) => propertyKey(p.id) === propertyKey(m[1]!) && String(p.value).toLowerCase() === m[2]!.toLowerCase());
    }
    const expand = this.expandFilter(url);
    const all = [...this.events.values()].filter((e) => !e.deleted && e.calendarId === calendar.id && match(e)).map((e) => this.render(e, prefs, expand));
    return this.page(url, all, prefs);
  }

  private inWindow(stored: StoredEvent, from: number, to: number): boolean {
    return instantOf(stored.data.start) < to && instantOf(stored.data.end) > from;
  }

  private calendarView(calendar: FakeCalendar, url: URL, prefs: Map<string, string>): Reply {
    const from = Date.parse(url.searchParams.get('startDateTime') ?? '');
    const to = Date.parse(url.searchParams.get('endDateTime') ?? '');
    if (Number.isNaN(from) || Number.isNaN(to)) return error(400, 'ErrorInvalidParameter', 'This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.');
    const expand = this.expandFilter(url);
    const all = [...this.events.values()].filter((e) => !e.deleted && e.calendarId === calendar.id && this.inWindow(e, from, to)).map((e) => this.render(e, prefs, expand));
    return this.page(url, all, prefs);
  }

  /**
   * DELTA (§3): the first call carries the window; later calls follow the links as given. A round
   * pages with $skiptoken links and ends with a $deltatoken link. Removals are `@removed`; events
   * that moved out of the window are reported as removed too.
   */
  private delta(calendar: FakeCalendar, url: URL, prefs: Map<string, string>): Reply {
    for (const banned of ['$expand', '$filter', '$select', '$orderby', '$search']) {
      if (url.searchParams.has(banned)) return error(400, 'ErrorInvalidUrlQuery', `The query parameter '${banned}' is not supported with change tracking over the 'CalendarView' resource.`);
    }
    const skip = url.searchParams.get('$skiptoken');
    const deltaToken = url.searchParams.get('$deltatoken');
    let state: Json;
    if (skip && deltaToken) return error(400, 'ErrorInvalidUrlQuery', 'A request may carry a $skiptoken or a $deltatoken, not both.');
    if (skip || deltaToken) {
      // §3.1: later calls GET the link exactly as given: the window is in the token, so it must not
      // be sent again (stricter than the service, which ignores it [obs learn Q&A 2182814]: a client
      // that re-adds it believes it can change the window, and cannot).
      for (const given of ['startDateTime', 'endDateTime']) {
        if ([...url.searchParams.keys()].some((k) => k.toLowerCase() === given.toLowerCase())) {
          return error(400, 'ErrorInvalidUrlQuery', `The query parameter '${given}' is encoded in the state token; follow the @odata.nextLink / @odata.deltaLink as given.`);
        }
      }
      // §3.1, §4: the token is opaque; one the client changed is not a sync state (400).
      const token = unseal((skip ?? deltaToken)!);
      if (!token || token.cal !== calendar.id || (skip ? token.kind !== 'skip' : token.kind !== 'delta')) return error(400, 'ErrorInvalidUrlQuery', 'The sync state is not valid.');
      // §3.6: a dead token is 410, or a 40X with syncStateNotFound.
      if (token.gen !== this.deltaGeneration) return error(this.expiredDeltaStatus, 'syncStateNotFound', 'The sync state generation is no longer valid.');
      // A round covers the changes numbered since < seq < upto; the next one starts where it ended.
      state = skip ? token : { kind: 'skip', cal: token.cal, from: token.from, to: token.to, since: token.upto - 1, upto: this.seq, gen: this.deltaGeneration, initial: false };
    } else {
      const from = Date.parse(url.searchParams.get('startDateTime') ?? '');
      const to = Date.parse(url.searchParams.get('endDateTime') ?? '');
      if (Number.isNaN(from) || Number.isNaN(to)) return error(400, 'ErrorInvalidParameter', 'This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.');
      state = { cal: calendar.id, from, to, since: 0, upto: this.seq, gen: this.deltaGeneration, initial: true };
    }
    const initial = state.initial === true;
    // Paged by change position (not offset), so an event changed mid-round moves to the next round.
    const changed = [...this.events.values()]
      .filter((e) => e.calendarId === calendar.id && e.seq > Math.max(state.since, state.after ?? 0) && e.seq < state.upto)
      .sort((a, b) => a.seq - b.seq);
    const entry = (e: StoredEvent): Json | null => {
      if (!e.deleted && this.inWindow(e, state.from, state.to)) return this.render(e, prefs, false);
      // §3.4: the first round has no tombstones; later rounds report deletions and moves out of the window.
      return initial ? null : { '@odata.type': '#microsoft.graph.event', id: e.data.id, '@removed': { reason: 'deleted' } };
    };
    // §3.5: odata.maxpagesize sets the page (the service caps it); $top has no effect on delta.
    const asked = Number(prefs.get('odata.maxpagesize') ?? this.defaultPageSize);
    const size = Math.max(1, Math.min(Number.isInteger(asked) && asked > 0 ? asked : this.defaultPageSize, this.maxPageSize));
    const base = `${this.url}/v1.0/me/calendars/${encodeURIComponent(calendar.id)}/calendarView/delta`;
    const out: Json = { '@odata.context': `${this.url}/v1.0/$metadata#Collection(event)`, value: [] };
    // §3.2: a page with a nextLink may be empty (ragged: the first page of each round is).
    if (this.raggedDelta && !state.started && changed.length > 0) {
      out['@odata.nextLink'] = this.link(`${base}?$skiptoken=${seal({ ...state, kind: 'skip', started: true })}`);
      return json(out);
    }
    const taken = changed.slice(0, size);
    for (const e of taken) {
      const item = entry(e);
      if (item) out.value.push(item);
    }
    // §3.4: one id can come several times in a round: ragged rounds repeat an earlier one.
    if (this.raggedDelta && state.repeat) {
      const again = this.events.get(state.repeat);
      const item = again && entry(again);
      if (item) out.value.push(item);
    }
    if (taken.length < changed.length) {
      const last = taken[taken.length - 1]!;
      out['@odata.nextLink'] = this.link(`${base}?$skiptoken=${seal({ ...state, kind: 'skip', started: true, after: last.seq, repeat: taken[0]!.data.id })}`);
    } else {
      out['@odata.deltaLink'] = this.link(`${base}?$deltatoken=${seal({ kind: 'delta', cal: calendar.id, from: state.from, to: state.to, upto: state.upto, gen: state.gen })}`);
    }
    return json(out);
  }

  /** §1a, FB: busy time of the user's own mailbox; personal accounts are refused; spans under 42 days. */
  private getSchedule(body: Json, prefs: Map<string, string>): Reply {
    if (this.personalAccount) return error(400, 'ErrorInvalidUser', 'The requested user is not supported for this operation (personal accounts are not supported).');
    const from = instantOf(body.startTime);
    const to = instantOf(body.endTime);
    if (!Array.isArray(body.schedules) || body.schedules.length === 0 || Number.isNaN(from) || Number.isNaN(to)) {
      return error(400, 'ErrorInvalidRequest', 'schedules, startTime and endTime are required.');
    }
    if (to - from >= this.scheduleMaxDays * 86_400_000) return error(400, 'ErrorInvalidTimeInterval', `The time duration specified is too long. The maximum duration is ${this.scheduleMaxDays - 1} days.`);
    const zone = prefs.get('outlook.timezone') ?? 'UTC';
    const iana = ianaOf(zone) ?? 'UTC';
    const shown = (ms: number) => ({ dateTime: graphDateTime(DateTime.fromMillis(ms, { zone: iana === 'UTC' ? 'utc' : iana })), timeZone: zone });
    return json({
      value: body.schedules.map((s: string) => {
        if (s.toLowerCase() !== this.email.toLowerCase()) return { scheduleId: s, error: { message: 'The requested user is not found.', responseCode: 'ErrorMailRecipientNotFound' } };
        const items = [...this.events.values()]
          .filter((e) => !e.deleted && (e.data.showAs ?? 'busy') !== 'free' && this.inWindow(e, from, to))
          .map((e) => ({ isPrivate: false, status: e.data.showAs ?? 'busy', subject: e.data.subject, start: shown(instantOf(e.data.start)), end: shown(instantOf(e.data.end)) }))
          .sort((a, b) => a.start.dateTime.localeCompare(b.start.dateTime));
        return { scheduleId: s, availabilityView: '', scheduleItems: items, workingHours: {} };
      }),
    });
  }

  /**
   * BATCH (§7): at most 20 requests, each with a non-empty string id unique in the batch, a method
   * and a relative URL without the version; a body needs its Content-Type; no $batch inside a
   * batch. dependsOn names earlier requests of the same batch; a request whose dependency failed
   * gets 424 Failed Dependency. Each part is throttled on its own (§6, THR): of the parts that run in
   * parallel (no dependsOn) only `batchConcurrency` reach the mailbox, the rest get 429
   * ApplicationThrottled with Retry-After (the Outlook limit of 4 concurrent requests per mailbox
   * [obs learn Q&A 968767, THR "Outlook service limits"]). Answers come back in any order.
   */
  private batch(url: URL, headers: Record<string, string>, body: string): Reply {
    let parsed: Json;
    try {
      parsed = JSON.parse(body);
    } catch {
      return error(400, 'BadRequest', 'Invalid batch payload format.');
    }
    const requests = parsed?.requests as Json[] | undefined;
    if (!Array.isArray(requests) || requests.length === 0) return error(400, 'BadRequest', 'Invalid batch payload format.');
    if (requests.length > 20) return error(400, 'BadRequest', 'The number of batch requests exceeds the limit of 20.');
    for (const r of requests) {
      if (typeof r?.id !== 'string' || r.id === '') return error(400, 'BadRequest', 'Each batch request needs a string id.');
      if (typeof r.method !== 'string' || !['GET', 'POST', 'PATCH', 'PUT', 'DELETE'].includes(r.method.toUpperCase())) return error(400, 'BadRequest', `Invalid method '${r.method}' in batch request ${r.id}.`);
      if (typeof r.url !== 'string' || r.url === '') return error(400, 'BadRequest', `Batch request ${r.id} has no url.`);
    }
    const ids = new Set(requests.map((r) => r.id));
    if (ids.size !== requests.length) return error(400, 'BadRequest', 'Batch request ids must be unique.');
    const order = new Map(requests.map((r, i) => [r.id as string, i]));
    for (const [i, r] of requests.entries()) {
      if (r.dependsOn === undefined) continue;
      if (!Array.isArray(r.dependsOn) || r.dependsOn.some((d: unknown) => typeof d !== 'string' || !ids.has(d as string) || order.get(d as string)! >= i)) {
        return error(400, 'BadRequest', `Batch request ${r.id} depends on a request that is not earlier in the batch.`);
      }
    }
    const results = new Map<string, number>();
    const responses: Json[] = [];
    let parallel = 0;
    for (const r of requests) {
      const answer = (status: number, code: string, message: string, extra: Record<string, string> = {}) => {
        results.set(r.id, status);
        responses.push({ id: r.id, status, headers: { 'content-type': 'application/json', ...extra }, body: error(status, code, message).body });
      };
      const failed = ((r.dependsOn ?? []) as string[]).find((d) => (results.get(d) ?? 0) >= 400);
      if (failed) {
        answer(424, 'FailedDependency', `The request depends on request ${failed}, which failed.`);
        continue;
      }
      const partHeaders: Record<string, string> = {};
      for (const [k, v] of Object.entries((r.headers ?? {}) as Record<string, string>)) partHeaders[k.toLowerCase()] = v;
      if (r.body !== undefined && !partHeaders['content-type']) {
        answer(400, 'BadRequest', 'Content-Type header must be specified for a request with a body.');
        continue;
      }
      // §7: relative and without the version ("/me/events/AAMk…").
      if (/^[a-z][a-z0-9+.-]*:/i.test(r.url) || /^\/?v1\.0\//i.test(r.url) || /^\/?beta\//i.test(r.url)) {
        answer(400, 'BadRequest', 'The batch request url must be relative to the version, e.g. "/me/events".');
        continue;
      }
      const inner = new URL(`/v1.0${r.url.startsWith('/') ? '' : '/'}${r.url}`, this.url);
      if (inner.pathname === '/v1.0/$batch') {
        answer(400, 'BadRequest', 'A batch request cannot contain another batch.');
        continue;
      }
      if (!r.dependsOn?.length && this.batchConcurrency !== null && ++parallel > this.batchConcurrency) {
        this.requests.push({ method: String(r.method).toUpperCase(), path: inner.pathname.slice('/v1.0'.length), query: inner.searchParams, headers: partHeaders, part: true });
        this.faultsServed += 1;
        answer(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'retry-after': '1' });
        continue;
      }
      let reply: Reply;
      try {
        reply = this.graph(String(r.method).toUpperCase(), inner, { ...partHeaders, prefer: partHeaders.prefer ?? '' }, r.body === undefined ? '' : JSON.stringify(r.body), true);
      } catch (e) {
        reply = e instanceof Refusal ? e.reply : error(500, 'generalException', `General exception while processing (${(e as Error).message})`);
      }
      results.set(r.id, reply.status);
      responses.push({ id: r.id, status: reply.status, headers: { ...reply.headers, ...(reply.body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(reply.body !== undefined ? { body: reply.body } : {}) });
    }
    // BATCH: responses may come back in any order; match on id.
    responses.reverse();
    void url;
    void headers;
    return json({ responses });
  }

  // ---- subscriptions and change notifications (SUB, HOOK, LIFE) ----------------------------------

  private async subscriptionRequest(method: string, url: URL, headers: Record<string, string>, body: string): Promise<Reply> {
    const path = url.pathname.slice('/v1.0'.length);
    this.requests.push({ method, path, query: url.searchParams, headers, part: false, body: logged(body) });
    const fault = this.nextFault(method, path);
    if (fault) {
      this.faultsServed += 1;
      return this.faultReply(fault);
    }
    const token = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
    const grant = token ? this.accessTokens.get(token) : undefined;
    if (!grant || grant.expires <= Date.now()) return error(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.');
    let parsed: Json = {};
    try {
      parsed = body ? JSON.parse(body) : {};
    } catch {
      return error(400, 'BadRequest', 'Unable to read JSON request payload.');
    }
    if (path === '/subscriptions' && method === 'POST') return this.subscribe(parsed);
    if (path === '/subscriptions' && method === 'GET') return json({ value: this.liveSubscriptions().map((sub) => this.renderSubscription(sub)) });
    const one = /^\/subscriptions\/([^/]+)$/.exec(path);
    const sub = one ? this.subscriptions.get(decodeURIComponent(one[1]!)) : undefined;
    if (!one) return error(400, 'BadRequest', 'Resource not found for the segment.');
    // SUB: an expired subscription is deleted by Graph; it can no longer be renewed.
    if (!sub || sub.expiration <= Date.now()) return error(404, 'ResourceNotFound', 'The object was not found.');
    if (method === 'GET') return json(this.renderSubscription(sub));
    if (method === 'DELETE') {
      this.subscriptions.delete(sub.id);
      return { status: 204 };
    }
    if (method === 'PATCH') {
      const expiration = this.expirationOf(parsed.expirationDateTime);
      if (typeof expiration !== 'number') return expiration;
      sub.expiration = expiration;
      return json(this.renderSubscription(sub));
    }
    return error(405, 'BadRequest', 'The OData request is not supported.');
  }

  /** SUB: expirationDateTime is required, in the future, and at most subscriptionMaxMinutes away. */
  private expirationOf(value: unknown): number | Reply {
    const at = typeof value === 'string' ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(at)) return error(400, 'InvalidRequest', 'expirationDateTime is required and must be a DateTimeOffset.');
    if (at <= Date.now()) return error(400, 'InvalidRequest', 'Subscription expiration must be in the future.');
    if (at > Date.now() + this.subscriptionMaxMinutes * 60_000) return error(400, 'InvalidRequest', `Subscription expiration can only be ${this.subscriptionMaxMinutes} minutes in the future.`);
    return at;
  }

  /**
   * SUB POST /subscriptions: changeType among created, updated, deleted; an https notificationUrl
   * (and lifecycleNotificationUrl); the resource `me/events` or `me/calendars/{id}/events`;
   * clientState at most 128 characters. HOOK: before answering, Graph POSTs
   * `<notificationUrl>?validationToken=<token>` (and the same to the lifecycle URL) and needs 200,
   * text/plain, the decoded token exactly, within 10 s — else the create fails with 400.
   */
  private async subscribe(body: Json): Promise<Reply> {
    const changeTypes = String(body.changeType ?? '').split(',').map((c) => c.trim());
    if (changeTypes.some((c) => !['created', 'updated', 'deleted'].includes(c))) return error(400, 'InvalidRequest', 'changeType must be created, updated and/or deleted for this resource.');
    for (const key of ['notificationUrl', 'lifecycleNotificationUrl'] as const) {
      if (body[key] === undefined && key === 'lifecycleNotificationUrl') continue;
      if (typeof body[key] !== 'string' || !URL.canParse(body[key]) || new URL(body[key]).protocol !== 'https:') return error(400, 'InvalidRequest', `The ${key} must be an https URL.`);
    }
    const resource = /^\/?me\/(?:events|calendar\/events|calendars\/([^/]+)\/events)$/i.exec(String(body.resource ?? ''));
    if (!resource) return error(400, 'InvalidRequest', `Resource '${String(body.resource)}' is not supported for this subscription.`);
    const calendarId = resource[1] ? decodeURIComponent(resource[1]) : /calendar\//i.test(String(body.resource)) ? this.defaultCalendar.id : null;
    if (calendarId && !this.calendars.has(calendarId)) return error(404, 'ResourceNotFound', 'The calendar was not found.');
    if (body.clientState !== undefined && (typeof body.clientState !== 'string' || body.clientState.length > 128)) return error(400, 'InvalidRequest', 'clientState must be at most 128 characters.');
    const expiration = this.expirationOf(body.expirationDateTime);
    if (typeof expiration !== 'number') return expiration;
    if (this.liveSubscriptions().length >= this.maxSubscriptions) return error(403, 'ExtensionError', `The mailbox has reached its limit of ${this.maxSubscriptions} subscriptions.`);
    for (const target of [body.notificationUrl, body.lifecycleNotificationUrl].filter((u): u is string => typeof u === 'string')) {
      const refused = await this.validateSubscriber(target);
      if (refused) return error(400, 'ValidationError', refused);
    }
    const sub: FakeSubscription = {
      id: randomUUID(), resource: String(body.resource), calendarId, changeTypes, notificationUrl: body.notificationUrl,
      lifecycleNotificationUrl: body.lifecycleNotificationUrl ?? null, clientState: body.clientState ?? null, expiration,
    };
    this.subscriptions.set(sub.id, sub);
    return json(this.renderSubscription(sub), 201);
  }

  /** HOOK: the validation request; null when it was answered as Graph requires, else why not. */
  private async validateSubscriber(target: string): Promise<string | null> {
    const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
    const url = new URL(this.reach(target));
    url.searchParams.set('validationToken', token);
    const call: SubscriberCall = { kind: 'validation', subscriptionId: null, count: 0, status: 0 };
    this.subscriberCalls.push(call);
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, signal: AbortSignal.timeout(this.validationTimeoutMs) });
      call.status = res.status;
      const text = await res.text();
      if (res.status !== 200) return 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.';
      if (!/^text\/plain\b/i.test(res.headers.get('content-type') ?? '')) return 'Subscription validation request failed. Response must be text/plain.';
      if (text !== token) return 'Subscription validation request failed. Response must exactly match validationToken query parameter.';
      return null;
    } catch {
      return `Subscription validation request failed. Notification endpoint must respond within ${this.validationTimeoutMs / 1000} seconds.`;
    }
  }

  private renderSubscription(sub: FakeSubscription): Json {
    return {
      '@odata.context': `${this.url}/v1.0/$metadata#subscriptions/$entity`, id: sub.id, resource: sub.resource, applicationId: this.clientId,
      changeType: sub.changeTypes.join(','), clientState: sub.clientState, notificationUrl: sub.notificationUrl,
      lifecycleNotificationUrl: sub.lifecycleNotificationUrl, expirationDateTime: new Date(sub.expiration).toISOString(),
      creatorId: 'b5a4c3d2-0000-4000-8000-00000000aaaa', latestSupportedTlsVersion: 'v1_2',
    };
  }

  /**
   * HOOK: a change to an event a live subscription watches becomes a notification {subscriptionId,
   * subscriptionExpirationDateTime, clientState, changeType, resource, resourceData, tenantId};
   * those due together go out in one POST's value[] per notification URL.
   */
  private changed(stored: StoredEvent, changeType: string): void {
    for (const sub of this.liveSubscriptions()) {
      if (!sub.changeTypes.includes(changeType) || (sub.calendarId !== null && sub.calendarId !== stored.calendarId)) continue;
      const resource = `Users/b5a4c3d2-0000-4000-8000-00000000aaaa/Events/${String(stored.data.id)}`;
      const notice = {
        subscriptionId: sub.id, subscriptionExpirationDateTime: new Date(sub.expiration).toISOString(), clientState: sub.clientState,
        changeType, resource, tenantId: this.tenant,
        resourceData: { '@odata.type': '#Microsoft.Graph.Event', '@odata.id': resource, '@odata.etag': `W/"${String(stored.data.changeKey ?? '')}"`, id: stored.data.id },
      };
      const queued = this.pendingNotices.get(sub.notificationUrl);
      if (queued) {
        queued.push(notice);
        continue;
      }
      this.pendingNotices.set(sub.notificationUrl, [notice]);
      const flush = new Promise<void>((resolve) => setTimeout(resolve, this.notifyBatchMs)).then(async () => {
        const value = this.pendingNotices.get(sub.notificationUrl) ?? [];
        this.pendingNotices.delete(sub.notificationUrl);
        await this.post('notification', null, sub.notificationUrl, { value }, value.length);
      }).finally(() => this.sending.delete(flush));
      this.sending.add(flush);
    }
  }

  /** One POST to a subscriber; HOOK: a change notification is answered with 2xx within 3 s (10 s before it counts as slow). */
  private async post(kind: 'notification' | 'lifecycle', subscriptionId: string | null, target: string, body: Json, count: number): Promise<number> {
    const call: SubscriberCall = { kind, subscriptionId, count, status: 0 };
    this.subscriberCalls.push(call);
    try {
      const res = await fetch(this.reach(target), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
      call.status = res.status;
      await res.arrayBuffer();
    } catch {
      call.status = 0;
    }
    return call.status;
  }

  // ---- identity platform (v2.0) -----------------------------------------------------------------

  private identity(method: string, url: URL, body: string): Reply {
    const path = url.pathname.replace(/^\/[^/]+/, '');
    const form = new URLSearchParams(body);
    if (path === '/v2.0/.well-known/openid-configuration') {
      return json({
        token_endpoint: `${this.authority}/oauth2/v2.0/token`,
        authorization_endpoint: `${this.authority}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${this.authority}/oauth2/v2.0/devicecode`,
        end_session_endpoint: `${this.authority}/oauth2/v2.0/logout`,
        issuer: `${this.url}/${this.tenant}/v2.0`,
        jwks_uri: `${this.authority}/discovery/v2.0/keys`,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      });
    }
    if (path === '/discovery/instance') {
      const host = new URL(this.url).host;
      return json({ tenant_discovery_endpoint: `${this.authority}/v2.0/.well-known/openid-configuration`, 'api-version': '1.1', metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }] });
    }
    if (path === '/oauth2/v2.0/authorize' && method === 'GET') return this.authorize(url.searchParams);
    if (path === '/oauth2/v2.0/devicecode' && method === 'POST') {
      // ID device code (RFC 8628 §3.2).
      if (form.get('client_id') !== this.clientId) return oauthError(400, 'unauthorized_client', 'AADSTS700016: Application not found in the directory.');
      const device = randomBytes(24).toString('base64url');
      const userCode = randomBytes(5).toString('hex').toUpperCase().slice(0, 9);
      // The user consents on the verification page: what they grant is what the token carries.
      const scope = this.grantedScopes ? [...this.grantedScopes, ...(form.get('scope') ?? '').split(' ').filter((s) => ['openid', 'profile', 'offline_access'].includes(s))].join(' ') : form.get('scope') ?? '';
      this.deviceCodes.set(device, { userCode, scope, consented: form.get('scope') ?? '', state: 'pending', expires: Date.now() + 900_000, polls: 0, lastPoll: 0 });
      return json({
        device_code: device, user_code: userCode, verification_uri: 'https://microsoft.com/devicelogin', expires_in: 900, interval: this.deviceInterval,
        message: `To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code ${userCode} to authenticate.`,
      });
    }
    if (path === '/oauth2/v2.0/token' && method === 'POST') return this.token(form);
    return error(404, 'not_found', 'no such identity endpoint');
  }

  /** The consent page, answered at once: a redirect with a code (or the error a test set up). */
  private authorize(q: URLSearchParams): Reply {
    const redirect = q.get('redirect_uri') ?? '';
    if (q.get('client_id') !== this.clientId) return oauthError(400, 'unauthorized_client', 'AADSTS700016: Application not found.');
    // RFC 7636 §4.2/§4.3, ID: PKCE with S256 (the "plain" method is refused here); an S256 challenge is 43 base64url characters.
    if (q.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(q.get('code_challenge') ?? '')) return oauthError(400, 'invalid_request', 'AADSTS9002325: Proof Key for Code Exchange is required for cross-origin authorization code redemption (code_challenge_method S256).');
    if (!URL.canParse(redirect)) return oauthError(400, 'invalid_request', 'AADSTS50011: The redirect URI specified in the request does not match the redirect URIs configured for the application.');
    const code = randomBytes(24).toString('base64url');
    const scope = this.grantedScopes?.join(' ') ?? q.get('scope') ?? '';
    this.codes.set(code, { challenge: q.get('code_challenge')!, method: 'S256', redirectUri: redirect, clientId: this.clientId, scope, used: false, expires: Date.now() + 600_000 });
    const back = new URL(redirect);
    back.searchParams.set('code', code);
    if (q.get('state')) back.searchParams.set('state', q.get('state')!);
    return { status: 302, headers: { location: back.href } };
  }

  private token(form: URLSearchParams): Reply {
    this.tokenRequests.push(form);
    if (form.get('client_id') !== this.clientId) return oauthError(400, 'unauthorized_client', 'AADSTS700016: Application not found in the directory.');
    const grant = form.get('grant_type');
    if (grant === 'authorization_code') {
      const c = this.codes.get(form.get('code') ?? '');
      // RFC 6749 §5.2: unknown, used or mismatched codes are invalid_grant; AADSTS54005 for a redeemed one.
      if (!c) return oauthError(400, 'invalid_grant', 'AADSTS9002313: Invalid request. Request is malformed or invalid.');
      if (c.used) return oauthError(400, 'invalid_grant', 'AADSTS54005: OAuth2 Authorization code was already redeemed.');
      // ID: authorization codes are short-lived (about 10 minutes); a late redemption is invalid_grant.
      if (c.expires <= Date.now()) return oauthError(400, 'invalid_grant', 'AADSTS70008: The provided authorization code or refresh token has expired due to inactivity.');
      c.used = true;
      if (c.redirectUri !== form.get('redirect_uri')) return oauthError(400, 'invalid_grant', 'AADSTS50148: The redirect_uri does not match.');
      const verifier = form.get('code_verifier') ?? '';
      // RFC 7636 §4.1: code_verifier is 43–128 characters of [A-Za-z0-9-._~].
      if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) return oauthError(400, 'invalid_request', 'AADSTS50148: The code_verifier is missing or malformed (RFC 7636: 43 to 128 unreserved characters).');
      if (createHash('sha256').update(verifier).digest('base64url') !== c.challenge) return oauthError(400, 'invalid_grant', 'AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request.');
      return json(this.tokenResponse(c.scope));
    }
    if (grant === 'refresh_token') {
      const r = this.refreshTokens.get(form.get('refresh_token') ?? '');
      if (!r || r.revoked) return oauthError(400, 'invalid_grant', 'AADSTS700082: The refresh token has expired due to inactivity.', [700082]);
      // ID: a refresh may ask for the consented scopes (or fewer), never more: AADSTS65001, consent_required.
      const consented = new Set(r.scope.split(' ').map(bareScope));
      const asked = (form.get('scope') ?? '').split(' ').filter(Boolean).map(bareScope);
      const extra = asked.filter((s) => !consented.has(s) && !['openid', 'profile', 'offline_access', 'email'].includes(s));
      if (extra.length) return json({ ...oauthError(400, 'invalid_grant', `AADSTS65001: The user or administrator has not consented to use the application for ${extra.join(' ')}.`).body as Json, suberror: 'consent_required' }, 400);
      // ID: every refresh hands out a new refresh token (rotation); the app must keep the newest.
      const out = this.tokenResponse(asked.length ? [...new Set([...asked, ...r.scope.split(' ').filter((s) => s === 'offline_access')])].join(' ') : r.scope);
      // Consent belongs to the user and app, not to one refresh token: the new one keeps all of it.
      if (out.refresh_token) this.refreshTokens.get(out.refresh_token)!.scope = r.scope;
      return json(out);
    }
    if (grant === 'device_code' || grant === 'urn:ietf:params:oauth:grant-type:device_code') {
      const d = this.deviceCodes.get(form.get('device_code') ?? '');
      // RFC 8628 §3.5: authorization_pending while the user has not finished; then declined or expired.
      if (!d) return oauthError(400, 'bad_verification_code', 'AADSTS70019: Verification code expired.');
      d.polls += 1;
      // RFC 8628 §3.5: a client polling sooner than `interval` is told slow_down (and must add 5 s).
      // A little slack for timers that fire early.
      const now = Date.now();
      const early = d.lastPoll > 0 && now - d.lastPoll < this.deviceInterval * 1000 - 150;
      d.lastPoll = now;
      if (early) return oauthError(400, 'slow_down', 'AADSTS70016: OAuth 2.0 device flow error. Polling too frequently; slow down.');
      if (d.expires <= Date.now()) return oauthError(400, 'expired_token', 'AADSTS70020: The provided value for the input parameter \'device_code\' is not valid. This device code has expired.');
      if (d.state === 'pending') return oauthError(400, 'authorization_pending', 'AADSTS70016: OAuth 2.0 device flow error. Authorization is pending.');
      if (d.state === 'declined') return oauthError(400, 'authorization_declined', 'AADSTS70000: The user declined to authorize the application.');
      this.deviceCodes.delete(form.get('device_code')!);
      return json(this.tokenResponse(d.scope));
    }
    return oauthError(400, 'unsupported_grant_type', 'AADSTS70003: The app requested an unsupported grant type.');
  }

  private tokenResponse(requested: string): Json {
    const scopes = requested.split(' ').filter(Boolean).map((s) => s.replace(/^https:\/\/graph\.microsoft\.com\//, ''));
    const granted = scopes.filter((s) => !['openid', 'profile', 'offline_access', 'email'].includes(s));
    const scope = [...new Set(granted)].join(' ');
    const access = `eyJ0eXAiOi.fake-access.${randomBytes(18).toString('base64url')}`;
    this.accessTokens.set(access, { expires: Date.now() + this.accessTokenSeconds * 1000, scope });
    this.issued.push(access);
    const out: Json = {
      token_type: 'Bearer', scope, expires_in: this.accessTokenSeconds, ext_expires_in: this.accessTokenSeconds, access_token: access,
      id_token: this.idToken(), client_info: b64({ uid: 'b5a4c3d2-0000-4000-8000-00000000aaaa', utid: this.tenant }),
    };
    if (scopes.includes('offline_access')) {
      const refresh = `0.AX-fake-refresh.${randomBytes(24).toString('base64url')}`;
      this.refreshTokens.set(refresh, { revoked: false, scope: requested });
      this.issued.push(refresh);
      out.refresh_token = refresh;
    }
    return out;
  }

  /** An unsigned id token with the claims MSAL reads (oid, tid, preferred_username, name). */
  private idToken(): string {
    const now = Math.floor(Date.now() / 1000);
    const header = b64({ typ: 'JWT', alg: 'none' });
    const claims = b64({
      aud: this.clientId, iss: `${this.url}/${this.tenant}/v2.0`, iat: now, nbf: now, exp: now + 3600,
      name: this.userName, preferred_username: this.email, oid: 'b5a4c3d2-0000-4000-8000-00000000aaaa', sub: 'fake-subject', tid: this.tenant, ver: '2.0',
    });
    return `${header}.${claims}.`;
  }
}

/** A scope without the resource prefix ("https://graph.microsoft.com/Calendars.ReadWrite" → "Calendars.ReadWrite"). */
function bareScope(scope: string): string {
  return scope.replace(/^https:\/\/graph\.microsoft\.com\//, '');
}

function oauthError(status: number, code: string, description: string, codes?: number[]): Reply {
  return json({ error: code, error_description: description, error_codes: codes ?? [Number(/AADSTS(\d+)/.exec(description)?.[1] ?? 0)], timestamp: new Date().toISOString(), trace_id: randomUUID(), correlation_id: randomUUID() }, status);
}
