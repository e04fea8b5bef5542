// The daemon's HTTP side: MCP over Streamable HTTP at /mcp (the SDK's transport, one session per
// client), the .ics feeds at /feeds/<token>.ics, and /healthz. Whether the listen address is
// loopback is decided from the addresses its name resolves to, never from its spelling. On
// loopback it answers only requests whose Host is exactly one of its own addresses (DNS
// rebinding) or the public URL's; anywhere else, and whenever a public URL is configured (a
// reverse proxy makes every request arrive over loopback), it needs the bearer token from the
// config. A browser's request is answered only if its Origin is exactly (scheme, host, port) the
// daemon's own, the public URL's or one listed in http.allowed_origins; others get 403.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { App } from '../app.js';
import { ConfigError } from '../errors.js';
import { log } from '../log.js';
import { createServer as createMcpServer } from '../mcp/server.js';
import { prepared } from '../store/statements.js';
import { VERSION } from '../version.js';
import { isLoopbackAddress, originOf, type Listen } from './exposure.js';
import type { FeedServer } from './feeds.js';

const MAX_BODY = 4 * 1024 * 1024;
/** A session not heard from for this long is closed (clients that never say goodbye would pile up). */
export const SESSION_IDLE_MS = 10 * 60 * 1000;
/** Sessions held at most; past it the least recently used idle one is closed for a new one. */
export const MAX_SESSIONS = 100;
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

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

export interface HttpOptions {
  listen: Listen;
  token: string | undefined;
  allowedOrigins: string[];
  /** http.public_url: the address a reverse proxy serves the daemon at (its host and origin are ours too). */
  publicUrl?: string | undefined;
  feeds: FeedServer;
  health: () => Record<string, unknown>;
  /** http.max_sessions (default 100). */
  maxSessions?: number;
  /** http.session_idle_minutes, in ms (default 10 minutes). */
  idleMs?: number;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  mcp: McpServer;
  /** When a request of it last came in (ms since the epoch). */
  seen: number;
  /** Its POST / DELETE requests being answered now; a session with one is never evicted. */
  busy: number;
}

export class DaemonHttp {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly sessions = new Map<string, Session>();
  /** Sessions being initialized (not in `sessions` yet, but they will be). */
  private opening = 0;
  private port = 0;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly app: App,
    private readonly options: HttpOptions,
    private readonly idleMs = options.idleMs ?? SESSION_IDLE_MS,
    private readonly maxSessions = options.maxSessions ?? MAX_SESSIONS,
  ) {}

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
    this.sweeper = setInterval(() => this.closeIdle(Date.now() - this.idleMs), Math.min(this.idleMs, 60_000));
    this.sweeper.unref();
  }

  /** Sessions open now (for tests and /healthz). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Closes the sessions not heard from since `before` (ms since the epoch). */
  closeIdle(before: number): void {
    for (const [id, session] of this.sessions) {
      if (session.seen >= before) continue;
      if (session.busy > 0) continue;
      this.sessions.delete(id);
      void session.mcp.close().catch(() => undefined);
      log.info('closed an idle MCP session', { idle_minutes: Math.round((Date.now() - session.seen) / 60_000) });
    }
  }

  /**
   * Makes room for one more session: at the limit, the least recently used session with no
   * request in flight is closed (its client gets "session not found" and may start anew).
   * False if every session is busy.
   */
  private makeRoom(): boolean {
    while (this.sessions.size + this.opening >= this.maxSessions) {
      let oldest: [string, Session] | undefined;
      // A Map keeps insertion order and a session is moved to the end when heard from: the first idle one is the LRU.
      for (const entry of this.sessions) {
        if (entry[1].busy === 0) {
          oldest = entry;
          break;
        }
      }
      if (!oldest) return false;
      const [id, session] = oldest;
      this.sessions.delete(id);
      void session.mcp.close().catch(() => undefined);
      log.debug('closed the least recently used MCP session to make room', { sessions: this.sessions.size, max_sessions: this.maxSessions });
    }
    return true;
  }

  /** Marks a session used now (the most recently used) and busy until `res` is done. */
  private touch(id: string, session: Session, res: ServerResponse, busy: boolean): void {
    session.seen = Date.now();
    this.sessions.delete(id);
    this.sessions.set(id, session);
    if (!busy) return;
    session.busy++;
    res.once('close', () => session.busy--);
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

  private authorized(req: IncomingMessage): boolean {
    // A public URL without a token is refused at start; should one get here, it fails closed.
    if (!this.options.token) return !this.options.publicUrl;
    const given = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    return given !== undefined && sameSecret(given, this.options.token);
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const feed = /^\/feeds\/([A-Za-z0-9_-]{16,128})\.ics$/.exec(url.pathname);
    if (feed && (req.method === 'GET' || req.method === 'HEAD')) {
      // Calendar apps cannot send a bearer token: the unguessable path is the credential.
      await this.options.feeds.handle(req, res, feed[1]!);
      return;
    }
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
      // Inspector connecting directly) can read the answers and the session id.
      res.setHeader('access-control-allow-origin', req.headers.origin);
      res.setHeader('access-control-expose-headers', 'mcp-session-id, mcp-protocol-version, www-authenticate');
      res.setHeader('vary', 'origin');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
          'access-control-allow-headers': 'authorization, content-type, mcp-session-id, mcp-protocol-version, last-event-id',
          'access-control-max-age': '600',
        }).end();
        return;
      }
    }
    if (!this.authorized(req)) {
      send(res, 401, { error: 'a bearer token is required (Authorization: Bearer <http.token>)' }, { 'www-authenticate': 'Bearer realm="tripcal"' });
      return;
    }
    if (url.pathname === '/healthz') {
      send(res, 200, this.options.health());
      return;
    }
    await this.mcp(req, res);
  }

  private async mcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const sessionId = req.headers['mcp-session-id'];
    const existing = typeof sessionId === 'string' ? this.sessions.get(sessionId) : undefined;
    // A long-lived GET (the server-to-client stream) does not pin a session; requests do.
    if (existing) this.touch(sessionId as string, existing, res, req.method !== 'GET');
    if (req.method === 'POST') {
      let body: unknown;
      try {
        body = await readJson(req);
      } catch (error) {
        send(res, 400, { jsonrpc: '2.0', error: { code: -32700, message: `Parse error: ${(error as Error).message}` }, id: null });
        return;
      }
      if (existing) {
        await existing.transport.handleRequest(req, res, body);
        return;
      }
      if (sessionId !== undefined || !isInitializeRequest(body)) {
        send(res, sessionId !== undefined ? 404 : 400, { jsonrpc: '2.0', error: { code: -32000, message: sessionId !== undefined ? 'Session not found' : 'Bad Request: no session; start with initialize' }, id: null });
        return;
      }
      if (!this.makeRoom()) {
        log.warn('MCP session refused: every session is busy', { max_sessions: this.maxSessions });
        send(res, 503, {
          jsonrpc: '2.0',
          error: { code: -32000, message: `Too many MCP sessions: all ${this.maxSessions} (http.max_sessions) are busy; retry in ${RETRY_AFTER_SECONDS} s` },
          id: (body as { id?: unknown }).id ?? null,
        }, { 'retry-after': String(RETRY_AFTER_SECONDS) });
        return;
      }
      this.opening++;
      try {
        const mcp = createMcpServer(this.app);
        const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => {
            const session: Session = { transport, mcp, seen: Date.now(), busy: 0 };
            this.sessions.set(id, session);
            session.busy++;
            res.once('close', () => session.busy--);
          },
        });
        transport.onclose = () => {
          if (transport.sessionId && this.sessions.get(transport.sessionId)?.transport === transport) this.sessions.delete(transport.sessionId);
        };
        await mcp.connect(transport);
        await transport.handleRequest(req, res, body);
        // An initialize that did not start a session (refused by the transport) leaves nothing behind.
        if (!transport.sessionId) void mcp.close().catch(() => undefined);
      } finally {
        this.opening--;
      }
      return;
    }
    if (!existing) {
      send(res, sessionId === undefined ? 400 : 404, { jsonrpc: '2.0', error: { code: -32000, message: sessionId === undefined ? 'Bad Request: no session' : 'Session not found' }, id: null });
      return;
    }
    await existing.transport.handleRequest(req, res);
  }

  /** Stops taking requests and ends the MCP sessions. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.allSettled([...this.sessions.values()].map(({ mcp }) => mcp.close()));
    this.sessions.clear();
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
export function health(app: App): Record<string, unknown> {
  let database = 'ok';
  try {
    app.store.ping();
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
    accounts: app.sync.status().map((a) => ({
      account: a.account, provider: a.provider, state: a.state, detail: a.detail, last_sync_at: a.last_sync_at,
      last_success_at: a.last_success_at, pending: a.pending, failed: a.failed.length, conflicts: a.conflicts.length,
    })),
  };
}
