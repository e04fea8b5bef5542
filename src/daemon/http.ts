// The daemon's HTTP side: MCP over Streamable HTTP at /mcp, the .ics feeds at
// /feeds/<token>.ics, and /healthz. MCP is stateless: each request is answered by a server built
// for it (2026-07-28, and 2025-11-25 clients without sessions), so nothing ties a client to one
// daemon process and an idle client costs nothing; change notices go to the clients holding a
// `subscriptions/listen` stream. Whether the listen address is
// loopback is decided from the addresses its name resolves to, never from its spelling. On
// loopback it answers only requests whose Host is exactly one of its own addresses (DNS
// rebinding) or the public URL's; anywhere else, and whenever a public URL is configured (a
// reverse proxy makes every request arrive over loopback), it needs the bearer token from the
// config. A browser's request is answered only if its Origin is exactly (scheme, host, port) the
// daemon's own, the public URL's or one listed in http.allowed_origins; others get 403.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createMcpHandler, type McpHttpHandler } from '@modelcontextprotocol/server';
import type { App } from '../app.js';
import { ConfigError } from '../errors.js';
import { log } from '../log.js';
import { ANYONE, type Principal } from '../mcp/principal.js';
import { READ_SCOPE, RefusedToken, WRITE_SCOPE, type AccessTokens } from './access-tokens.js';
import type { AuthServer } from './auth-server.js';
import { createServer as createMcpServer, resourceWatch } from '../mcp/server.js';
import { VERSION } from '../version.js';
import { isLoopbackAddress, originOf, type Listen } from './exposure.js';
import type { FeedServer } from './feeds.js';
import { isPagePath, StatusPage } from '../web/page.js';
import { readCapped } from './oauth-common.js';
import { PageSession } from './page-session.js';

const MAX_BODY = 4 * 1024 * 1024;
/** MCP requests answered at once (open subscription streams count too); past it, 503. */
export const MAX_REQUESTS = 100;
/** What a client over the limit is told to wait before trying again. */
const RETRY_AFTER_SECONDS = 5;

function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const body = await readCapped(req, MAX_BODY);
  if (!body) throw new BodyTooLarge(`request body over ${MAX_BODY} bytes`);
  return body;
}

/** The Node request as a fetch Request for the SDK's handler; `signal` aborts when the client goes away. */
async function fetchRequest(req: IncomingMessage, url: URL, signal: AbortSignal): Promise<Request> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  const body = req.method === 'POST' ? await readBody(req) : undefined;
  return new Request(url, { method: req.method ?? 'GET', headers, body: body as Uint8Array<ArrayBuffer> | undefined, signal });
}

/** Writes the SDK's Response (a JSON body, or an SSE stream for the request alone) to the Node response. */
async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => (headers[name] = value));
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
  res.flushHeaders();
  const reader = response.body.getReader();
  res.once('close', () => void reader.cancel().catch(() => undefined));
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!res.write(value)) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
  }
  res.end();
}

/** A static bearer token and who it is for. */
export interface StaticToken {
  token: string;
  principal: Principal;
}

export interface HttpOptions {
  listen: Listen;
  /** http.token (for http.token_user, else any user) and http.tokens. */
  tokens: StaticToken[];
  /** http.auth: access tokens of an identity provider (OAuth 2.1, MCP authorization). */
  accessTokens?: AccessTokens | undefined;
  /** http.auth.builtin: tripcal's own authorization server (its endpoints are served here too). */
  authServer?: AuthServer | undefined;
  allowedOrigins: string[];
  /** http.public_url: the address a reverse proxy serves the daemon at (its host and origin are ours too). */
  publicUrl?: string | undefined;
  feeds: FeedServer;
  health: () => Promise<Record<string, unknown>>;
  /** http.max_requests (default 100). */
  maxRequests?: number;
  /** Change notifications of Google and Microsoft at /push/… (daemon/push.ts), when push is on. */
  push?: { handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> } | undefined;
}

export class DaemonHttp {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private port = 0;
  /** MCP requests being answered now, subscription streams included. */
  private inFlight = 0;
  private readonly mcpHandler: McpHttpHandler;
  private readonly unwatch: () => void;
  /** The status page at / (web/page.ts). */
  private readonly page: StatusPage;
  /** Signing in to the page, when the daemon is its own authorization server. */
  private readonly session: PageSession | undefined;

  constructor(
    app: App,
    private readonly options: HttpOptions,
    private readonly maxRequests = options.maxRequests ?? MAX_REQUESTS,
  ) {
    this.mcpHandler = createMcpHandler(({ era, authInfo }) => createMcpServer(app, {
      era, connection: false, principal: (authInfo?.extra as { principal?: Principal } | undefined)?.principal,
    }), {
      legacy: 'stateless',
      maxSubscriptions: this.maxRequests,
      onerror: (error) => log.debug('MCP request refused', { error: error.message }),
    });
    // A trip's resources change when the trip does: clients listening for them hear it.
    this.unwatch = resourceWatch(app).subscribe(({ updated, listChanged }) => {
      for (const uri of updated) this.mcpHandler.notify.resourceUpdated(uri);
      if (listChanged) this.mcpHandler.notify.resourcesChanged();
    });
    this.session = options.authServer ? new PageSession(options.authServer) : undefined;
    this.page = new StatusPage(app, {
      feedUrl: (user) => options.feeds.url((options.publicUrl ?? this.baseUrl).replace(/\/$/, ''), user),
      signIn: this.session !== undefined,
    });
  }

  get baseUrl(): string {
    const host = this.options.listen.host.includes(':') ? `[${this.options.listen.host}]` : this.options.listen.host;
    return `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${this.port}`;
  }

  private get loopback(): boolean {
    return this.options.listen.loopback ?? isLoopbackAddress(this.options.listen.host);
  }

  /** The Host values (host:port, lower case) that name this server. */
  private ownHosts(): Set<string> {
    const hosts = new Set([`127.0.0.1:${this.port}`, `localhost:${this.port}`, `[::1]:${this.port}`]);
    const { host } = this.options.listen;
    if (host !== '0.0.0.0' && host !== '::') hosts.add((host.includes(':') ? `[${host}]:${this.port}` : `${host}:${this.port}`).toLowerCase());
    if (this.options.publicUrl) {
      const url = new URL(this.options.publicUrl);
      hosts.add(url.host.toLowerCase());
      if (!url.port) hosts.add(`${url.hostname}:${url.protocol === 'https:' ? 443 : 80}`.toLowerCase());
    }
    return hosts;
  }

  /** The exact origins (scheme://host:port) of pages allowed to call /mcp from a browser. */
  private ownOrigins(): Set<string> {
    const origins = new Set(this.options.allowedOrigins.map(originOf).filter((o): o is string => o !== undefined));
    for (const host of this.ownHosts()) {
      const origin = originOf(`http://${host}`);
      if (origin) origins.add(origin);
    }
    const publicOrigin = this.options.publicUrl ? originOf(this.options.publicUrl) : undefined;
    if (publicOrigin) origins.add(publicOrigin);
    return origins;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.route(req, res).catch((error: Error) => {
        log.error('http request failed', { path: req.url?.split('?')[0], error: error.message });
        if (!res.headersSent) send(res, 500, { error: 'internal error' });
        else res.end();
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => reject(new ConfigError([
        `http.listen: cannot listen on ${this.options.listen.host}:${this.options.listen.port} (${error.code === 'EADDRINUSE' ? 'the port is in use' : error.message})`,
      ])));
      server.listen(this.options.listen.port, this.options.listen.address ?? this.options.listen.host, () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** MCP requests being answered now, open subscription streams included (for /healthz). */
  get requestsInFlight(): number {
    return this.inFlight;
  }

  private hostAllowed(req: IncomingMessage): boolean {
    // Off loopback every request needs the token, which a rebound page does not have.
    if (!this.loopback) return true;
    return this.ownHosts().has((req.headers.host ?? '').toLowerCase());
  }

  private originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true; // not a browser: MCP clients, curl, calendar servers
    // Exact scheme, host and port: http://127.0.0.1.evil.example is a name like any other.
    const normalized = originOf(origin);
    return normalized !== undefined && normalized === origin.toLowerCase().replace(/\/$/, '') && this.ownOrigins().has(normalized);
  }

  /**
   * Who the request is from: the principal of its static token or of a valid access token, or,
   * with neither configured on loopback, anyone (the person at this machine). A refusal says why.
   */
  private async principal(req: IncomingMessage): Promise<Principal | { refused: string }> {
    const { tokens, accessTokens, publicUrl } = this.options;
    // A public URL without a token is refused at start; should one get here, it fails closed.
    if (tokens.length === 0 && !accessTokens) return publicUrl ? { refused: 'no token is configured' } : ANYONE;
    const given = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (given === undefined) return { refused: 'a bearer token is required' };
    // Every static token is compared (constant time each): the time taken tells nothing of which matched.
    let found: Principal | null = null;
    for (const { token, principal } of tokens) if (sameSecret(given, token) && !found) found = principal;
    if (found) return found;
    if (!accessTokens) return { refused: 'the token is not one of http.token / http.tokens' };
    try {
      return await accessTokens.verify(given);
    } catch (error) {
      if (error instanceof RefusedToken) return { refused: error.message };
      throw error;
    }
  }

  /** RFC 9728: where a client learns which authorization server issues tokens for /mcp. */
  private get resourceMetadataUrl(): string {
    return `${(this.options.publicUrl ?? this.baseUrl).replace(/\/$/, '')}/.well-known/oauth-protected-resource/mcp`;
  }

  /** The 401 of MCP authorization: what to fetch to find out how to get a token, and the scopes. */
  private unauthorized(res: ServerResponse, why: string, tokenGiven: boolean): void {
    const challenge = this.options.accessTokens
      ? `Bearer resource_metadata="${this.resourceMetadataUrl}", scope="${READ_SCOPE} ${WRITE_SCOPE}"${tokenGiven ? `, error="invalid_token", error_description="${why.replace(/"/g, "'")}"` : ''}`
      : 'Bearer realm="tripcal"';
    send(res, 401, { error: `${why} (Authorization: Bearer <token>)` }, { 'www-authenticate': challenge });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const feed = /^\/feeds\/([A-Za-z0-9_-]{16,128})\.ics$/.exec(url.pathname);
    if (feed && (req.method === 'GET' || req.method === 'HEAD')) {
      // Calendar apps cannot send a bearer token: the unguessable path is the credential.
      await this.options.feeds.handle(req, res, feed[1]!);
      return;
    }
    // ---- Change notifications (push): no MCP token, for Google and Microsoft cannot send one;
    // each carries its channel's secret, which push.ts checks. No Host check either: they come
    // through the reverse proxy of http.public_url.
    if (this.options.push && url.pathname.startsWith('/push/')) {
      await this.options.push.handle(req, res, url);
      return;
    }
    // ---- The built-in authorization server (http.auth.builtin): RFC 8414 metadata, its keys,
    // /register, /authorize, /token. Metadata and keys are public; the endpoints answer only
    // requests for this server's own names on loopback (DNS rebinding), like /mcp.
    if (this.options.authServer && await this.authServerRoute(req, res, url)) return;
    // ---- end of the built-in authorization server's routes
    const accessTokens = this.options.accessTokens;
    if (accessTokens && (url.pathname === '/.well-known/oauth-protected-resource' || url.pathname === '/.well-known/oauth-protected-resource/mcp')) {
      // Public by design: a client reads it before it has a token. Browsers (web clients) may too.
      send(res, 200, accessTokens.metadata(), { 'access-control-allow-origin': '*', 'cache-control': 'max-age=3600' });
      return;
    }
    // ---- The status page (web/page.ts): GET /, /page.css, /page.js and POST /page/sync. The same
    // Host and Origin checks as /mcp, then the page decides by the request's principal.
    if (isPagePath(url.pathname)) {
      if (!this.hostAllowed(req) || !this.originAllowed(req)) {
        send(res, 403, { error: 'this Host or Origin is not this server\'s (DNS rebinding and cross-site protection)' });
        return;
      }
      if (this.session && await this.session.handle(req, res, url)) return;
      let principal = await this.principal(req);
      // A browser sends no bearer token: with tripcal's own sign-in, its session cookie says who it is.
      if ('refused' in principal && this.session) {
        const signedIn = await this.session.principal(req, res);
        if (signedIn) principal = signedIn;
        else if (url.pathname === '/' && req.method === 'GET') {
          res.writeHead(303, { location: '/page/sign-in', 'cache-control': 'no-store' }).end();
          return;
        }
      }
      await this.page.handle(req, res, url, principal);
      return;
    }
    // ---- end of the status page
    if (url.pathname !== '/mcp' && url.pathname !== '/healthz') {
      send(res, 404, { error: 'not found' });
      return;
    }
    if (!this.hostAllowed(req)) {
      send(res, 403, { error: `Host "${req.headers.host ?? ''}" is not this server (DNS rebinding protection)` });
      return;
    }
    if (!this.originAllowed(req)) {
      send(res, 403, { error: `Origin "${req.headers.origin}" is not allowed (add it to http.allowed_origins)` });
      return;
    }
    if (req.headers.origin) {
      // A page allowed to call us (local, or listed): CORS, so browser-based clients (the MCP
      // Inspector connecting directly) can read the answers.
      res.setHeader('access-control-allow-origin', req.headers.origin);
      res.setHeader('access-control-expose-headers', 'mcp-session-id, mcp-protocol-version, www-authenticate');
      res.setHeader('vary', 'origin');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
          'access-control-allow-headers': 'authorization, content-type, mcp-session-id, mcp-protocol-version, mcp-method, mcp-name, last-event-id',
          'access-control-max-age': '600',
        }).end();
        return;
      }
    }
    const principal = await this.principal(req);
    if ('refused' in principal) {
      this.unauthorized(res, principal.refused, req.headers.authorization !== undefined);
      return;
    }
    if (url.pathname === '/healthz') {
      // The accounts and the process are an admin's business; one user's token learns only that it is up.
      const all = await this.options.health();
      send(res, 200, principal.user === undefined ? all : { status: all.status, version: all.version });
      return;
    }
    await this.mcp(req, res, new URL(url.pathname + url.search, this.baseUrl), principal);
  }

  private async authServerRoute(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (['/authorize', '/token', '/register'].includes(url.pathname) && !this.hostAllowed(req)) {
      send(res, 403, { error: `Host "${req.headers.host ?? ''}" is not this server (DNS rebinding protection)` });
      return true;
    }
    return this.options.authServer!.handle(req, res, url.pathname);
  }

  private async mcp(req: IncomingMessage, res: ServerResponse, url: URL, principal: Principal): Promise<void> {
    if (this.inFlight >= this.maxRequests) {
      log.warn('MCP request refused: too many at once', { max_requests: this.maxRequests });
      send(res, 503, {
        jsonrpc: '2.0',
        error: { code: -32000, message: `Too many MCP requests: ${this.maxRequests} (http.max_requests) are being answered; retry in ${RETRY_AFTER_SECONDS} s` },
        id: null,
      }, { 'retry-after': String(RETRY_AFTER_SECONDS) });
      return;
    }
    this.inFlight++;
    const gone = new AbortController();
    // The client closing its end cancels the request (2026-07-28: that is how HTTP cancels).
    res.once('close', () => {
      this.inFlight--;
      if (!res.writableFinished) gone.abort();
    });
    let request: Request;
    try {
      request = await fetchRequest(req, url, gone.signal);
    } catch (error) {
      if (!(error instanceof BodyTooLarge)) throw error;
      send(res, 413, { jsonrpc: '2.0', error: { code: -32600, message: error.message }, id: null });
      return;
    }
    const authInfo = { token: 'static', clientId: 'tripcal-http-token', scopes: principal.write ? ['tripcal:read', 'tripcal:write'] : ['tripcal:read'], extra: { principal } };
    await writeResponse(res, await this.mcpHandler.fetch(request, { authInfo }));
  }

  /** Stops taking requests, closes subscription streams and requests in flight. */
  async close(): Promise<void> {
    this.unwatch();
    await this.mcpHandler.close().catch(() => undefined);
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
  }
}

function memoryMb(): Record<string, number> {
  const m = process.memoryUsage();
  const mb = (n: number) => Math.round(n / 1048576);
  return { rss: mb(m.rss), heap_used: mb(m.heapUsed), heap_total: mb(m.heapTotal), external: mb(m.external + m.arrayBuffers) };
}

/** What /healthz says: the process, the database, each account's last sync and state. */
export async function health(app: App): Promise<Record<string, unknown>> {
  let database = 'ok';
  try {
    await app.store.ping();
  } catch (error) {
    database = `error: ${(error as Error).message}`;
  }
  return {
    status: database === 'ok' ? 'ok' : 'degraded',
    version: VERSION,
    pid: process.pid,
    uptime_seconds: Math.round(process.uptime()),
    memory_mb: memoryMb(),
    database,
    schedule: app.schedule(),
    accounts: (await app.sync.status()).map((a) => ({
      account: a.account, provider: a.provider, state: a.state, detail: a.detail, last_sync_at: a.last_sync_at,
      last_success_at: a.last_success_at, pending: a.pending, failed: a.failed.length, conflicts: a.conflicts.length,
    })),
  };
}
