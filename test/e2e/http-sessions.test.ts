// Issue 14: a flood of MCP sessions must not kill the daemon. The real daemon under the shipped
// 128 MB heap takes 600 sequential and 300 concurrent initialize requests (plain fetch, no
// goodbye), keeps at most http.max_sessions, closes the least recently used idle ones, stays
// alive and answering, and a fresh SDK client still works. Over the limit with every session
// busy, a new one gets 503 with Retry-After and a JSON-RPC error.
import { request } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, expect, test } from 'vitest';
import type { App } from '../../src/app.js';
import { FeedServer } from '../../src/daemon/feeds.js';
import { DaemonHttp, health, type HttpOptions } from '../../src/daemon/http.js';
import { testApp } from '../support/app.js';
import { connectHttp, startDaemonProcess, type RunningDaemon } from '../support/daemon.js';
import { structured, tempDir } from '../support/mcp.js';
import { freePort } from '../support/radicale.js';

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const init = (id: number) => JSON.stringify({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: `flood-${id}`, version: '1' } } });

async function initialize(url: string, id: number): Promise<{ status: number; session: string | null; retryAfter: string | null; body: string }> {
  const res = await fetch(url, { method: 'POST', headers: HEADERS, body: init(id) });
  return { status: res.status, session: res.headers.get('mcp-session-id'), retryAfter: res.headers.get('retry-after'), body: await res.text() };
}

async function listTools(url: string, session: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, {
    method: 'POST', headers: { ...HEADERS, 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
  });
  return { status: res.status, body: await res.text() };
}

const running: RunningDaemon[] = [];
let app: App | undefined;
let http: DaemonHttp | undefined;
afterEach(async () => {
  await http?.close();
  await app?.close();
});
afterAll(async () => {
  for (const d of running) await d.stop('SIGKILL');
});

test('600 sequential and 300 concurrent sessions under a 128 MB heap: alive, bounded, LRU evicted, a fresh SDK client works', async () => {
  const dir = tempDir();
  const port = await freePort();
  writeFileSync(join(dir, 'config.yaml'), `log_level: warn\nhttp:\n  listen: 127.0.0.1:${port}\n`);
  const d = await startDaemonProcess(['--config', join(dir, 'config.yaml'), '--data-dir', dir], { NODE_OPTIONS: '--max-old-space-size=128', TRIPCAL_LOG_LEVEL: 'warn' });
  running.push(d);
  const url = d.mcpUrl;
  const healthz = async () => (await (await fetch(d.healthUrl)).json()) as { status: string; mcp_sessions: number; memory_mb: { heap_used: number } };

  const sessions: string[] = [];
  for (let i = 0; i < 600; i++) {
    const r = await initialize(url, i);
    expect(r.status, r.body).toBe(200);
    sessions.push(r.session!);
  }
  let h = await healthz();
  expect(h.status).toBe('ok');
  expect(h.mcp_sessions).toBeLessThanOrEqual(100);
  expect(h.memory_mb.heap_used).toBeLessThan(128);
  // The oldest were closed to make room: their clients hear "session not found"; the newest work.
  const evicted = await listTools(url, sessions[0]!);
  expect(evicted.status).toBe(404);
  expect(evicted.body).toMatch(/Session not found/);
  const recent = await listTools(url, sessions.at(-1)!);
  expect(recent.status).toBe(200);
  expect(recent.body).toContain('add_flight');

  const burst = await Promise.all(Array.from({ length: 300 }, (_, i) => initialize(url, 1000 + i)));
  for (const r of burst) {
    expect([200, 503], r.body).toContain(r.status);
    if (r.status === 503) {
      expect(r.retryAfter).toMatch(/^\d+$/);
      expect(JSON.parse(r.body)).toMatchObject({ jsonrpc: '2.0', error: { code: -32000, message: expect.stringMatching(/Too many MCP sessions.*http\.max_sessions/) } });
    }
  }
  expect(burst.filter((r) => r.status === 200).length).toBeGreaterThan(100);
  h = await healthz();
  expect(h.mcp_sessions).toBeLessThanOrEqual(100);

  // A real client after the flood.
  const client = await connectHttp(url);
  expect(structured(await client.call('list_trips', {})).trips).toEqual([]);
  await client.close();
  expect(d.child.exitCode).toBeNull();
  expect(d.stderr()).not.toMatch(/heap out of memory|FATAL/);
  await d.stop();
}, 180_000);

/** The daemon's HTTP side in this process, on a free loopback port, over a fresh app; its /mcp URL. */
async function startHttp(limits: Pick<HttpOptions, 'maxSessions' | 'idleMs'>): Promise<string> {
  app = testApp();
  const a = app;
  http = new DaemonHttp(a, { listen: { host: '127.0.0.1', port: 0, loopback: true }, token: undefined, allowedOrigins: [], feeds: new FeedServer(a), health: () => health(a), ...limits });
  await http.start();
  return `${http.baseUrl}/mcp`;
}

test('over the limit with every session busy: 503, Retry-After, a JSON-RPC error; room again once one is idle', async () => {
  const url = await startHttp({ maxSessions: 1 });
  const first = await initialize(url, 1);
  expect(first.status).toBe(200);
  // A request of the first session still in flight (its body not sent yet): the session is busy.
  const { port } = new URL(http.baseUrl);
  const inFlight = request({ host: '127.0.0.1', port: Number(port), path: '/mcp', method: 'POST', headers: { ...HEADERS, 'mcp-session-id': first.session!, 'mcp-protocol-version': '2025-06-18' } });
  const answered = new Promise<number>((resolve) => inFlight.on('response', (res) => {
    res.resume();
    resolve(res.statusCode!);
  }));
  inFlight.write('{"jsonrpc":"2.0","id":5,');
  await new Promise((r) => setTimeout(r, 100));
  const refused = await initialize(url, 2);
  expect(refused.status).toBe(503);
  expect(refused.retryAfter).toBe('5');
  expect(JSON.parse(refused.body)).toEqual({ jsonrpc: '2.0', error: { code: -32000, message: expect.stringContaining('all 1 (http.max_sessions) are busy') }, id: 2 });
  inFlight.end('"method":"tools/list"}');
  expect(await answered).toBe(200);
  // Idle now: the next client takes its place, and the first hears "session not found".
  const second = await initialize(url, 3);
  expect(second.status).toBe(200);
  expect(http.sessionCount).toBe(1);
  expect((await listTools(url, first.session!)).status).toBe(404);
  expect((await listTools(url, second.session!)).status).toBe(200);
});

test('an idle session is closed after http.session_idle_minutes', async () => {
  const url = await startHttp({ idleMs: 300 });
  const r = await initialize(url, 1);
  expect(http.sessionCount).toBe(1);
  await new Promise((res) => setTimeout(res, 1000));
  expect(http.sessionCount).toBe(0);
  expect((await listTools(url, r.session!)).status).toBe(404);
});
