// Issues 14 and 18: MCP over HTTP keeps nothing per client. The real daemon under the shipped
// 128 MB heap takes 600 sequential and 300 concurrent requests of clients that never say
// goodbye (2025-11-25 initialize, and 2026-07-28 requests), mints no session ids, stays alive,
// and a fresh SDK client works. Past http.max_requests answered at once a request gets 503 with
// Retry-After. Two daemon processes (the daemon and a --replica) behind a round-robin proxy
// answer one client's consecutive requests correctly, with both SDK clients.
import { createServer, request, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import type { App } from '../../src/app.js';
import { FeedServer } from '../../src/daemon/feeds.js';
import { DaemonHttp, health } from '../../src/daemon/http.js';
import { testApp } from '../support/app.js';
import type { Era } from '../support/clients.js';
import { connectHttp, startDaemonProcess, type RunningDaemon } from '../support/daemon.js';
import { structured, tempDir } from '../support/mcp.js';
import { freePort } from '../support/radicale.js';

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const MODERN_META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {}, 'io.modelcontextprotocol/clientInfo': { name: 'flood', version: '1' } };

/** A 2025-11-25 client's opening, never followed by anything. */
async function initialize(url: string, id: number) {
  const res = await fetch(url, {
    method: 'POST', headers: HEADERS,
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: `flood-${id}`, version: '1' } } }),
  });
  return { status: res.status, session: res.headers.get('mcp-session-id'), retryAfter: res.headers.get('retry-after'), body: await res.text() };
}

/** A 2026-07-28 tools/list: version and capabilities in _meta, the method in a header. */
async function modernList(url: string, id: number) {
  const res = await fetch(url, {
    method: 'POST', headers: { ...HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list', params: { _meta: MODERN_META } }),
  });
  return { status: res.status, session: res.headers.get('mcp-session-id'), retryAfter: res.headers.get('retry-after'), body: await res.text() };
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

test('600 sequential and 300 concurrent requests under a 128 MB heap: no sessions kept, alive, a fresh SDK client works', async () => {
  const dir = tempDir();
  const port = await freePort();
  writeFileSync(join(dir, 'config.yaml'), `log_level: warn\nhttp:\n  listen: 127.0.0.1:${port}\n`);
  const d = await startDaemonProcess(['--config', join(dir, 'config.yaml'), '--data-dir', dir], { NODE_OPTIONS: '--max-old-space-size=128', TRIPCAL_LOG_LEVEL: 'warn' });
  running.push(d);
  const url = d.mcpUrl;
  const healthz = async () => (await (await fetch(d.healthUrl)).json()) as { status: string; mcp_requests: number; memory_mb: { heap_used: number } };

  for (let i = 0; i < 600; i++) {
    const r = i % 2 === 0 ? await initialize(url, i) : await modernList(url, i);
    expect(r.status, r.body).toBe(200);
    expect(r.session).toBeNull();
    if (i % 2 === 1) expect(r.body).toContain('add_flight');
  }
  let h = await healthz();
  expect(h.status).toBe('ok');
  expect(h.mcp_requests).toBe(0);
  expect(h.memory_mb.heap_used).toBeLessThan(128);

  const burst = await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? initialize(url, 1000 + i) : modernList(url, 1000 + i))));
  for (const r of burst) {
    expect([200, 503], r.body).toContain(r.status);
    if (r.status === 503) {
      expect(r.retryAfter).toMatch(/^\d+$/);
      expect(JSON.parse(r.body)).toMatchObject({ jsonrpc: '2.0', error: { code: -32000, message: expect.stringMatching(/Too many MCP requests.*http\.max_requests/) } });
    }
  }
  expect(burst.filter((r) => r.status === 200).length).toBeGreaterThan(100);
  h = await healthz();
  expect(h.mcp_requests).toBe(0);

  // A real client after the flood.
  const client = await connectHttp(url);
  expect(structured(await client.call('list_trips', {})).trips).toEqual([]);
  await client.close();
  expect(d.child.exitCode).toBeNull();
  expect(d.stderr()).not.toMatch(/heap out of memory|FATAL/);
  await d.stop();
}, 180_000);

test('past http.max_requests answered at once: 503, Retry-After, a JSON-RPC error; room again once one is done', async () => {
  app = await testApp();
  const a = app;
  http = new DaemonHttp(a, { listen: { host: '127.0.0.1', port: 0, loopback: true }, tokens: [], allowedOrigins: [], feeds: new FeedServer(a), health: () => health(a), maxRequests: 1 });
  await http.start();
  const url = `${http.baseUrl}/mcp`;
  // A request still in flight (its body not all sent yet).
  const { port } = new URL(http.baseUrl);
  const inFlight = request({ host: '127.0.0.1', port: Number(port), path: '/mcp', method: 'POST', headers: { ...HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' } });
  const answered = new Promise<number>((resolve) => inFlight.on('response', (res) => {
    res.resume();
    resolve(res.statusCode!);
  }));
  inFlight.write('{"jsonrpc":"2.0","id":5,');
  await new Promise((r) => setTimeout(r, 100));
  expect(http.requestsInFlight).toBe(1);
  const refused = await modernList(url, 2);
  expect(refused.status).toBe(503);
  expect(refused.retryAfter).toBe('5');
  expect(JSON.parse(refused.body)).toEqual({ jsonrpc: '2.0', error: { code: -32000, message: expect.stringContaining('1 (http.max_requests) are being answered') }, id: null });
  inFlight.end(`"method":"tools/list","params":{"_meta":${JSON.stringify(MODERN_META)}}}`);
  expect(await answered).toBe(200);
  await new Promise((r) => setTimeout(r, 50));
  expect(http.requestsInFlight).toBe(0);
  expect((await modernList(url, 3)).status).toBe(200);
});

/** A round-robin proxy: request n goes to upstream n mod 2, whatever the client. Counts per upstream. */
async function roundRobin(upstreams: string[]): Promise<{ url: string; counts: number[]; server: Server }> {
  const counts = upstreams.map(() => 0);
  let next = 0;
  const server = createServer((req, res) => {
    const i = next++ % upstreams.length;
    counts[i]! += 1;
    const target = new URL(req.url ?? '/', upstreams[i]);
    const headers = { ...req.headers, host: target.host };
    const out = request(target, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.writeHead(502).end());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/mcp`, counts, server };
}

describe('two daemon processes behind a round-robin proxy (no session affinity)', () => {
  test.each<Era>(['modern', 'legacy'])('a %s client\'s consecutive requests are answered right by either', async (era) => {
    const dir = tempDir();
    const ports = [await freePort(), await freePort()];
    const configs = ports.map((port, i) => {
      const path = join(dir, `config-${i}.yaml`);
      writeFileSync(path, `log_level: warn\nhttp:\n  listen: 127.0.0.1:${port}\n`);
      return path;
    });
    const primary = await startDaemonProcess(['--config', configs[0]!, '--data-dir', dir]);
    running.push(primary);
    const replica = await startDaemonProcess(['--config', configs[1]!, '--data-dir', dir, '--replica']);
    running.push(replica);
    expect(replica.stdout()).toMatch(/replica/);
    const proxy = await roundRobin(ports.map((p) => `http://127.0.0.1:${p}`));
    try {
      const client = await connectHttp(proxy.url, {}, { era });
      const added = structured(await client.call('add_flight', {
        flight_details: { airline: 'TAP', flight_number: 'TP1350', departure_airport: 'LIS', arrival_airport: 'OSL', departure_time: '2026-06-01T10:00', arrival_time: '2026-06-01T15:10' },
      }));
      // Each next request goes to the other process: what one wrote, the other reads.
      for (let i = 0; i < 4; i++) {
        const trip = structured(await client.call('get_trip', { trip_id: added.trip_id }));
        expect(trip.items.map((item: { summary: string }) => item.summary)).toEqual([expect.stringContaining('TP1350')]);
      }
      const moved = structured(await client.call('shift_trip', { trip_id: added.trip_id, by: 'P1D' }));
      expect(moved.success).toBe(true);
      const after = structured(await client.call('get_trip', { trip_id: added.trip_id }));
      expect(after.items[0].start.local).toMatch(/^2026-06-02T10:00/);
      structured(await client.call('delete_trip', { trip_id: added.trip_id }));
      expect(structured(await client.call('list_trips', {})).trips).toEqual([]);
      await client.close();
      // Both processes answered, about half each.
      expect(Math.min(...proxy.counts)).toBeGreaterThanOrEqual(4);
    } finally {
      proxy.server.close();
      await replica.stop();
      await primary.stop();
    }
  }, 60_000);
});
