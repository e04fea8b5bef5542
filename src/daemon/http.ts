// The daemon's HTTP side: MCP over Streamable HTTP at /mcp (the SDK's transport, one session per
// client), the .ics feeds at /feeds/<token>.ics, and /healthz. On a loopback address it answers
// only requests whose Host is that address (DNS rebinding); anywhere else it needs the bearer
// token from the config. Browsers' cross-site requests (an Origin that is not local or listed)
// get 403.
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
import { syncStatus } from '../sync/status.js';
import { VERSION } from '../version.js';
import type { FeedServer } from './feeds.js';

const MAX_BODY = 4 * 1024 * 1024;
/** A session not heard from for this long is closed (clients that never say goodbye would pile up). */
export const SESSION_IDLE_MS = 60 * 60 * 1000;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export interface Listen {
  host: string;
  port: number;
}

export function parseListen(listen: string): Listen {
  const at = listen.lastIndexOf(':');
  return { host: listen.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(listen.slice(at + 1)) };
}

export const isLoopbackHost = (host: string) => LOOPBACK.has(host) || /^127\./.test(host);

/** Refuses, before anything starts, an address other machines can reach without a token. */
export function checkListen(listen: string, token: string | undefined): Listen {
  const parsed = parseListen(listen);
  if (!isLoopbackHost(parsed.host) && !token) {
    throw new ConfigError([`http.listen: ${listen} can be reached from other machines, so http.token must be set `
      + '(e.g. token: ${TRIPCAL_HTTP_TOKEN} with TRIPCAL_HTTP_TOKEN=$(openssl rand -hex 32)); or listen on 127.0.0.1']);
  }
  return parsed;
}

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
  feeds: FeedServer;
  health: () => Record<string, unknown>;
}

export class DaemonHttp {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly sessions = new Map<string, { transport: StreamableHTTPServerTransport; mcp: McpServer; seen: number }>();
  private port = 0;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly app: App,
    private readonly options: HttpOptions,
    private readonly idleMs = SESSION_IDLE_MS,
  ) {}

  get baseUrl(): string {
    const host = this.options.listen.host.includes(':') ? `[${this.options.listen.host}]` : this.options.listen.host;
    return `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${this.port}`;
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
      server.listen(this.options.listen.port, this.options.listen.host, () => resolve());
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
      this.sessions.delete(id);
      void session.mcp.close().catch(() => undefined);
      log.info('closed an idle MCP session', { idle_minutes: Math.round((Date.now() - session.seen) / 60_000) });
    }
  }

  private hostAllowed(req: IncomingMessage): boolean {
    if (!isLoopbackHost(this.options.listen.host)) return true;
    const host = (req.headers.host ?? '').toLowerCase();
    return [`127.0.0.1:${this.port}`, `localhost:${this.port}`, `[::1]:${this.port}`].includes(host);
  }

  private originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (!origin) return true; // not a browser: MCP clients, curl, calendar servers
    if (this.options.allowedOrigins.includes(origin)) return true;
    try {
      return isLoopbackHost(new URL(origin).hostname);
    } catch {
      return false;
    }
  }

  private authorized(req: IncomingMessage): boolean {
    if (!this.options.token) return true;
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
    if (existing) existing.seen = Date.now();
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
      const mcp = createMcpServer(this.app);
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          this.sessions.set(id, { transport, mcp, seen: Date.now() });
        },
      });
      transport.onclose = () => {
        if (transport.sessionId) this.sessions.delete(transport.sessionId);
      };
      await mcp.connect(transport);
      await transport.handleRequest(req, res, body);
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
    prepared(app.store.db, 'SELECT 1').get();
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
    accounts: syncStatus(app.store, app.sync).map((a) => ({
      account: a.account, provider: a.provider, state: a.state, detail: a.detail, last_sync_at: a.last_sync_at,
      last_success_at: a.last_success_at, pending: a.pending, failed: a.failed.length, conflicts: a.conflicts.length,
    })),
  };
}
