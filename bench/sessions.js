// MCP clients and memory (issues 14, 18). Prints numbers only. MCP over HTTP is stateless: an
// idle client holds nothing, so what is measured is what clients that never come back leave.
//  - building the MCP server a request gets, in-process: ms and MB each (200 of them)
//  - the daemon under the shipped 128 MB heap: MB per idle client (500 clients, half opening
//    with a 2025-11-25 initialize, half with a 2026-07-28 server/discover, each then tools/list),
//    and how many such clients it takes before anything gives (up to the ceiling)
//  - tools/list answered per second over HTTP, one request after another
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { freePort, tmp } from './servers.js';

const CLI = new URL('../dist/tripcal.mjs', import.meta.url).pathname;
const round = (n, d = 3) => Math.round(n * 10 ** d) / 10 ** d;
// The daemon collects garbage on SIGUSR2, so heap numbers are what is live.
const GC_ON_SIGNAL = `data:text/javascript,process.on('SIGUSR2',()=>globalThis.gc())`;
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
const legacy = (id, method, params = {}) => JSON.stringify({ jsonrpc: '2.0', id, method, params });
const modern = (id, method) => JSON.stringify({ jsonrpc: '2.0', id, method, params: { _meta: META } });

async function startDaemon() {
  const dir = tmp();
  const port = await freePort();
  writeFileSync(join(dir, 'config.yaml'), `log_level: error\nhttp:\n  listen: 127.0.0.1:${port}\n`);
  const child = spawn(process.execPath, ['--max-old-space-size=128', '--expose-gc', '--import', GC_ON_SIGNAL, CLI, 'daemon', '--config', join(dir, 'config.yaml'), '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.resume();
  const exited = new Promise((resolve) => child.on('exit', resolve));
  while (!/Background sync:/.test(out)) {
    if (child.exitCode !== null) throw new Error(`daemon exited: ${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const base = `http://127.0.0.1:${port}`;
  const post = async (body, headers = {}) => {
    const res = await fetch(`${base}/mcp`, { method: 'POST', headers: { ...HEADERS, ...headers }, body });
    await res.text();
    return res.status;
  };
  return {
    child, exited,
    /** One client that opens, lists the tools and never comes back; the worst HTTP status. */
    open: async (id) => {
      const statuses = id % 2 === 0
        ? [await post(legacy(id, 'initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: `bench-${id}`, version: '1' } })),
          await post(legacy(id + 1, 'tools/list'), { 'mcp-protocol-version': '2025-11-25' })]
        : [await post(modern(id, 'server/discover'), { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'server/discover' }),
          await post(modern(id + 1, 'tools/list'), { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' })];
      return Math.max(...statuses);
    },
    list: (id) => post(modern(id, 'tools/list'), { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' }),
    heapMb: async () => {
      child.kill('SIGUSR2');
      await new Promise((r) => setTimeout(r, 300));
      const h = await (await fetch(`${base}/healthz`)).json();
      return { heap: h.memory_mb.heap_used, rss: h.memory_mb.rss, requests: h.mcp_requests };
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function inProcessServer(count = 200) {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc');
  const { openApp } = await import('../dist/src/app.js');
  const { createServer } = await import('../dist/src/mcp/server.js');
  const app = await openApp({ dataDir: tmp() });
  const keep = [createServer(app, { era: 'modern', connection: false })];
  gc();
  const before = process.memoryUsage().heapUsed;
  const started = performance.now();
  for (let i = 0; i < count; i++) keep.push(createServer(app, { era: 'modern', connection: false }));
  const ms = (performance.now() - started) / count;
  gc();
  const mb = (process.memoryUsage().heapUsed - before) / count / 1048576;
  await app.close();
  return { ms: round(ms), mb: round(mb) };
}

export async function sessionsBench({ measured = 500, ceiling = 5000, listed = 500 } = {}) {
  const server = await inProcessServer();
  const d = await startDaemon();
  await d.open(0);
  const base = await d.heapMb();
  for (let i = 1; i <= measured; i++) {
    const status = await d.open(i);
    if (status !== 200) throw new Error(`client ${i}: HTTP ${status}`);
  }
  const after = await d.heapMb();
  let held = measured + 1;
  let ended = 'ceiling reached';
  for (; held < ceiling; held++) {
    try {
      const status = await d.open(held);
      if (status !== 200) {
        ended = `HTTP ${status}`;
        break;
      }
    } catch {
      ended = 'daemon died (heap limit)';
      break;
    }
  }
  const atCeiling = await d.heapMb().catch(() => ({ heap: null, rss: null, requests: null }));
  const started = performance.now();
  for (let i = 0; i < listed; i++) await d.list(i);
  const perSecond = listed / ((performance.now() - started) / 1000);
  await d.stop();
  return {
    mcp_server_build_ms: server.ms,
    mcp_server_mb_in_process: server.mb,
    mb_per_idle_client_daemon: round((after.heap - base.heap) / measured),
    heap_mb_after_500_idle_clients: after.heap,
    idle_clients_under_128mb_heap: held,
    idle_clients_ended_by: ended,
    heap_mb_after_all: atCeiling.heap,
    rss_mb_after_all: atCeiling.rss,
    requests_in_flight_after_all: atCeiling.requests,
    tools_list_per_second_http: Math.round(perSecond),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await sessionsBench())}\n`);
}
