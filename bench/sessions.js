// MCP sessions and memory (issue 14). Prints numbers only.
//  - the MCP server a session gets, in-process: MB each (heap after GC, 200 of them)
//  - the daemon under the shipped 128 MB heap: MB per open session (500 sessions, limit raised),
//    the heap after 600 sequential sessions with the default limit (100, LRU eviction), and how
//    many sessions it holds before the heap runs out when the limit is raised out of the way
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
const init = (id) => JSON.stringify({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: `bench-${id}`, version: '1' } } });

async function startDaemon({ maxSessions }) {
  const dir = tmp();
  const port = await freePort();
  writeFileSync(join(dir, 'config.yaml'), `log_level: error\nhttp:\n  listen: 127.0.0.1:${port}\n  max_sessions: ${maxSessions}\n`);
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
  return {
    child, exited,
    open: async (id) => {
      const res = await fetch(`${base}/mcp`, { method: 'POST', headers: HEADERS, body: init(id) });
      await res.text();
      return res.status;
    },
    heapMb: async () => {
      child.kill('SIGUSR2');
      await new Promise((r) => setTimeout(r, 300));
      const h = await (await fetch(`${base}/healthz`)).json();
      return { heap: h.memory_mb.heap_used, sessions: h.mcp_sessions };
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function inProcessServerMb(count = 200) {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc');
  const { openApp } = await import('../dist/src/app.js');
  const { createServer } = await import('../dist/src/mcp/server.js');
  const app = openApp({ dataDir: tmp() });
  const keep = [createServer(app)];
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < count; i++) keep.push(createServer(app));
  gc();
  const mb = (process.memoryUsage().heapUsed - before) / count / 1048576;
  app.close();
  return round(mb);
}

export async function sessionsBench({ measured = 500, sequential = 600, ceiling = 5000 } = {}) {
  const mcpServerMb = await inProcessServerMb();

  // The default limit: 600 sessions one after another, none saying goodbye.
  const bounded = await startDaemon({ maxSessions: 100 });
  for (let i = 0; i < sequential; i++) {
    const status = await bounded.open(i);
    if (status !== 200) throw new Error(`session ${i}: HTTP ${status}`);
  }
  const afterSequential = await bounded.heapMb();
  await bounded.stop();

  // The limit out of the way: what a session costs, and how many fit in 128 MB.
  const open = await startDaemon({ maxSessions: 10_000 });
  await open.open(0);
  const base = await open.heapMb();
  for (let i = 1; i <= measured; i++) await open.open(i);
  const after = await open.heapMb();
  let held = measured + 1;
  let ended = 'ceiling reached';
  for (; held < ceiling; held++) {
    try {
      const status = await open.open(held);
      if (status !== 200) {
        ended = `HTTP ${status}`;
        break;
      }
    } catch {
      ended = 'daemon died (heap limit)';
      break;
    }
  }
  await open.stop();
  return {
    mcp_server_mb_in_process: mcpServerMb,
    mb_per_session_daemon: round((after.heap - base.heap) / measured),
    heap_mb_after_600_sequential_sessions_default_limit: afterSequential.heap,
    sessions_open_after_600: afterSequential.sessions,
    sessions_held_under_128mb_heap_without_limit: held,
    sessions_held_ended_by: ended,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await sessionsBench())}\n`);
}
