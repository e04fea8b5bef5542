// The daemon's status page at `/`: GET shows it (web/page-html.ts), POST /page/sync runs a sync
// (all accounts, or one account settling its conflicts: the same as MCP sync_now with
// `resolve`) and comes back to the page with what it did; POST /page/reconnect starts the same
// sign-in as authorize_calendar for an account that needs it. /page.css and /page.js are its
// stylesheet and script.
//
// Who may see it: the same rules as MCP over HTTP (the daemon checks Host and Origin before
// this, and hands over the request's principal). A browser cannot send a bearer token, so for
// now the page answers only when no token is configured on loopback (the person at this
// machine: ANYONE); otherwise 401 and why. Forms carry a token derived from a secret of this
// process (a page from elsewhere cannot know it), on top of the daemon's Origin check.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { App } from '../app.js';
import { signsInWith } from '../auth/connect.js';
import { signInsOf } from '../auth/sign-ins.js';
import type { OAuthProvider } from '../auth/states.js';
import { describeError } from '../errors.js';
import { OAUTH_PROVIDERS } from '../../providers/registry.js';
import { log } from '../log.js';
import { ANYONE, ownAccount, type Principal } from '../mcp/principal.js';
import { checkTrip } from '../trips/checks.js';
import { itemView, tripView } from '../trips/views.js';
import { VERSION } from '../version.js';
import { renderPage, type PageModel } from './page-html.js';
import { escapeHtml } from './trip-view.js';
import { PAGE_SCRIPT } from './page-script.js';
import { STYLE } from './style.js';

const PATHS = new Set([
  '/', '/page.css', '/page.js', '/page/sync', '/page/reconnect', '/page/progress', '/favicon.ico',
  // Signing in to the page (daemon/page-session.ts), when the daemon is its own authorization server.
  '/page/sign-in', '/page/callback', '/page/sign-out', '/page/signed-out',
]);

/** Whether the status page answers this path. */
export const isPagePath = (path: string): boolean => PATHS.has(path);

/** Nothing but the daemon's own style and script, no frames, forms only to the daemon. */
export const PAGE_CSP = "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const HTML_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // Feed links hold their key: never sent on to another site. (Not no-referrer: with it a
  // browser sends `Origin: null` on the page's own POSTs, which the Origin check refuses.)
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

const MAX_FORM = 16 * 1024;
/** Results kept for the page that shows them after a POST (by id, the newest few). */
const KEPT_RESULTS = 20;

export interface PageOptions {
  /** The feed link of a user (made on first use). */
  feedUrl: (userId: string) => Promise<string>;
  /** People sign in to the page (tripcal's own authorization server): a refusal points there. */
  signIn?: boolean;
}

export class StatusPage {
  private readonly secret = randomBytes(32);
  private readonly results = new Map<string, { ok: boolean; lines: string[] }>();
  /** Syncs started from the page and still running: per account, events written of those to write. */
  private readonly runs = new Map<string, Map<string, { done: number; total: number }>>();

  constructor(private readonly app: App, private readonly options: PageOptions) {}

  /** The form token of this process. */
  get csrf(): string {
    return createHmac('sha256', this.secret).update('tripcal status page forms').digest('base64url');
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL, principal: Principal | { refused: string }): Promise<void> {
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204, { 'cache-control': 'max-age=86400' }).end();
      return;
    }
    if (url.pathname === '/page.css' || url.pathname === '/page.js') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return this.plain(res, 405, 'Only GET.', { allow: 'GET, HEAD' });
      const css = url.pathname === '/page.css';
      res.writeHead(200, {
        'content-type': css ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8', 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache',
      }).end(req.method === 'HEAD' ? undefined : css ? STYLE : PAGE_SCRIPT);
      return;
    }
    if ('refused' in principal) {
      this.plain(res, 401, this.options.signIn
        ? 'Sign in to see this page (the same sign-in as an assistant\'s): open / again, or /page/sign-in.'
        : 'This page opens when the daemon needs no sign-in (on loopback with no http.token, http.tokens or http.auth), or with '
          + 'tripcal\'s own sign-in (http.auth.builtin). A browser has no way to send a static token or another identity provider\'s; '
          + 'use an MCP client with your token, or the CLI on this machine (tripcal list, tripcal sync).', { 'www-authenticate': 'Bearer realm="tripcal"' });
      return;
    }
    if (url.pathname === '/page/sync' || url.pathname === '/page/reconnect') {
      if (req.method !== 'POST') return this.plain(res, 405, 'Only POST, from the page\'s buttons.', { allow: 'POST' });
      if (!principal.write) return this.plain(res, 403, 'This sign-in may only read (scope tripcal:read): nothing was changed.');
      const form = await this.form(req, res);
      if (!form) return;
      await (url.pathname === '/page/sync' ? this.sync(form, res, principal) : this.reconnect(form, res, principal));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.plain(res, 405, 'Only GET.', { allow: 'GET, HEAD' });
    if (url.pathname === '/page/progress') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' })
        .end(JSON.stringify(this.progress(url.searchParams.get('run') ?? '')));
      return;
    }
    const run = url.searchParams.get('run');
    if (run && this.results.has(run)) {
      // The run has ended (perhaps before its page was asked for): its result's own address.
      res.writeHead(303, { location: `/?done=${encodeURIComponent(run)}#sync-result`, 'cache-control': 'no-store' }).end();
      return;
    }
    const html = renderPage(await this.model(url.searchParams.get('done'), run, principal));
    res.writeHead(200, HTML_HEADERS).end(req.method === 'HEAD' ? undefined : html);
  }

  /** What the page shows now. */
  async model(done: string | null = null, run: string | null = null, principal: Principal = ANYONE): Promise<PageModel> {
    const { app } = this;
    const options = { minConnectionMinutes: app.config.checks.min_connection_minutes, minConnectionMinutesInternational: app.config.checks.min_connection_minutes_international };
    // Someone signed in sees their own trips, accounts and feed; anyone on this machine, everyone's.
    const users = principal.user !== undefined ? [principal.user] : await app.trips.userIds();
    const trips: PageModel['trips'] = [];
    const feeds: PageModel['feeds'] = [];
    for (const [i, user] of users.entries()) {
      const listed = (await app.trips.listTrips(user)).map(({ trip, items, zone }) => ({
        trip: tripView(trip, items, zone), items: items.map(itemView), warnings: checkTrip(items, options),
      }));
      if (i === 0 || listed.length > 0) trips.push({ user, trips: listed });
      feeds.push({ user, url: await this.options.feedUrl(user) });
    }
    return {
      version: VERSION,
      now: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      trips,
      accounts: (await app.sync.status()).filter((a) => principal.user === undefined || a.user === principal.user),
      schedule: app.schedule(),
      feeds,
      csrf: this.csrf,
      signInProviders: [...OAUTH_PROVIDERS],
      signedIn: principal.user !== undefined ? { user: principal.user, write: principal.write, signOut: this.options.signIn === true } : undefined,
      result: done ? this.results.get(done) : undefined,
      running: run && this.runs.has(run) ? { id: run, ...this.progress(run) } : undefined,
    };
  }

  /** One of the page's forms, with its form token; null when refused (and answered). */
  private async form(req: IncomingMessage, res: ServerResponse): Promise<URLSearchParams | null> {
    if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) {
      this.plain(res, 415, 'Send the page\'s form.');
      return null;
    }
    let body = '';
    for await (const chunk of req) {
      body += (chunk as Buffer).toString('utf8');
      if (body.length > MAX_FORM) {
        this.plain(res, 413, 'Form too large.');
        return null;
      }
    }
    const form = new URLSearchParams(body);
    const given = Buffer.from(form.get('csrf') ?? '');
    const expected = Buffer.from(this.csrf);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      this.plain(res, 403, 'This form is not from this daemon\'s page (or the daemon restarted since): reload the page and try again.');
      return null;
    }
    return form;
  }

  /**
   * Starts signing the account in again, as authorize_calendar does, and shows where to go: a
   * link, not a redirect (the page's form-action keeps its forms to the daemon). When tripcal
   * listens at the redirect URI the browser's return finishes it; else the page says how to.
   */
  private async reconnect(form: URLSearchParams, res: ServerResponse, principal: Principal): Promise<void> {
    const name = form.get('account') ?? '';
    let started;
    let provider: OAuthProvider;
    try {
      const account = await this.app.sync.account(name);
      if (principal.user !== undefined) await ownAccount(this.app, name, principal.user, 'account');
      if (!OAUTH_PROVIDERS.includes(account.provider)) {
        return this.plain(res, 400, `"${name}" is a ${account.provider} account: it is connected with its password (in the config, or tripcal auth ${account.provider} ${name}), not by signing in.`);
      }
      provider = account.provider as OAuthProvider;
      started = await signInsOf(this.app).start({ userId: account.user, provider, account: name });
    } catch (error) {
      log.warn('reconnect from the status page failed', { error: (error as Error).message });
      return this.plain(res, 400, `The sign-in did not start: ${describeError(error).message}`);
    }
    const who = signsInWith(provider);
    const after = started.listening
      ? 'When you have allowed it, the browser comes back to tripcal, which finishes by itself; then reload this page.'
      : `${who} then sends the browser to ${started.redirectUri}, which tripcal does not receive: give the \`code\` and \`state\` from that address to handle_auth_callback (MCP) within 10 minutes, or run tripcal auth ${provider} ${name} in a terminal instead.`;
    res.writeHead(200, { ...HTML_HEADERS }).end(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Reconnect ${escapeHtml(name)} · tripcal</title><link rel="stylesheet" href="/page.css"></head>`
      + `<body><main><h1>Reconnect ${escapeHtml(name)}</h1><p>Sign in to ${who} and allow tripcal to manage the events of calendar <strong>${escapeHtml(started.calendar)}</strong>.</p>`
      + `<p><a class="button" id="sign-in" href="${escapeHtml(started.authUrl)}" rel="noreferrer">Sign in with ${who}</a></p>`
      + `<p>${escapeHtml(after)}</p><p class="muted">The link works once, for 10 minutes.</p><p><a href="/">Back to the page</a></p></main></body></html>`,
    );
  }

  /** How a run is going: each account's events written so far; done once its result is kept. */
  private progress(id: string): { done: boolean; accounts: Array<{ account: string; done: number; total: number }> } {
    const run = this.runs.get(id);
    return { done: !run && this.results.has(id), accounts: [...(run ?? new Map()).entries()].map(([account, p]) => ({ account, ...p })) };
  }

  /**
   * Starts the sync and answers at once with the page that follows it (`?run=`), which shows each
   * account's progress (page.js asks /page/progress; without scripts it refreshes itself) and
   * then the result (`?done=`).
   */
  private async sync(form: URLSearchParams, res: ServerResponse, principal: Principal): Promise<void> {
    const account = form.get('account') || undefined;
    const resolve = form.get('resolve') || undefined;
    if (resolve !== undefined && resolve !== 'model' && resolve !== 'remote') return this.plain(res, 400, 'resolve is "model" or "remote".');
    if (account !== undefined) {
      try {
        await this.app.sync.account(account);
        if (principal.user !== undefined) await ownAccount(this.app, account, principal.user, 'account');
      } catch (error) {
        return this.plain(res, 400, describeError(error).message);
      }
    }
    const id = randomBytes(9).toString('base64url');
    const progress = new Map<string, { done: number; total: number }>();
    this.runs.set(id, progress);
    void this.run(id, progress, { account, userId: principal.user, resolve: resolve as 'model' | 'remote' | undefined });
    res.writeHead(303, { location: `/?run=${id}#sync-result`, 'cache-control': 'no-store' }).end();
  }

  private async run(id: string, progress: Map<string, { done: number; total: number }>, request: { account?: string | undefined; userId?: string | undefined; resolve?: 'model' | 'remote' | undefined }): Promise<void> {
    const { resolve } = request;
    let result: { ok: boolean; lines: string[] };
    try {
      const reports = await this.app.sync.sync({ ...request, onProgress: (p) => progress.set(p.account, { done: p.done, total: p.total }) });
      result = {
        ok: reports.every((r) => r.status === 'ok'),
        lines: reports.length === 0 ? ['No calendar account is configured.'] : reports.map((r) => `${r.account}: ${r.status === 'ok' ? 'synced' : r.status}${r.message ? ` (${r.message})` : ''}; `
          + `created ${r.counts.created}, updated ${r.counts.updated}, deleted ${r.counts.deleted}, unchanged ${r.counts.unchanged}, failed ${r.counts.failed}, conflicts ${r.counts.conflicts}`
          + (resolve ? `; conflicts settled with ${resolve === 'model' ? 'tripcal\'s' : 'the calendar\'s'} version` : '')),
      };
    } catch (error) {
      log.warn('sync from the status page failed', { error: (error as Error).message });
      result = { ok: false, lines: [`The sync did not run: ${describeError(error).message}`] };
    }
    this.results.set(id, result);
    this.runs.delete(id);
    for (const old of this.results.keys()) if (this.results.size > KEPT_RESULTS) this.results.delete(old);
  }

  private plain(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
    sendPlainPage(res, status, message, headers);
  }
}

/** A page of one sentence and the way back, with the status page's headers (its CSP among them). */
export function sendPlainPage(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...HTML_HEADERS, ...headers }).end(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>tripcal</title><link rel="stylesheet" href="/page.css"></head>`
    + `<body><main><h1>tripcal</h1><p>${message.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</p><p><a href="/">Back to the page</a></p></main></body></html>`,
  );
}
