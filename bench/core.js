// Core benchmarks (issue: Core). Prints numbers; asserts nothing. Run with `npm run bench`.
//  1. stdio cold start to the first tools/list answer (median of 15 starts; 2025 and 2026-07-28 clients,
//     with and without the launcher's code cache, and bare `node -e 0` beside them)
//  2. add_flight round trip through the real SDK client over stdio (p50 / p99 of 2,000 calls)
//  3. export of 1,000 trips x 10 items: wall time and max RSS of a separate process
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { execFileSync, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { tmp } from './servers.js';

const CLI = resolve(import.meta.dirname, '../dist/tripcal.mjs');
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function start(dataDir, env = {}) {
  const transport = new StdioClientTransport({
    command: process.execPath, args: [CLI, 'serve'], env: { ...process.env, TRIPCAL_DATA_DIR: dataDir, TRIPCAL_LOG_LEVEL: 'warn', ...env }, stderr: 'ignore',
  });
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(transport);
  return client;
}

/**
 * Spawn -> first tools/list answered, in raw JSON-RPC over the child's stdio (no client-side work
 * counted). 'legacy': a 2025-era initialize, then tools/list; 'modern': a 2026-07-28 tools/list
 * straight away, its version and capabilities in _meta.
 */
function rawColdStart(dataDir, era = 'legacy', env = {}) {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, 'serve'], { env: { ...process.env, TRIPCAL_DATA_DIR: dataDir, TRIPCAL_LOG_LEVEL: 'warn', ...env }, stdio: ['pipe', 'pipe', 'ignore'] });
    let buffer = '';
    const send = (msg) => child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...msg })}\n`);
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const message = JSON.parse(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
        if (message.id === 1) {
          send({ method: 'notifications/initialized' });
          send({ id: 2, method: 'tools/list' });
        } else if (message.id === 2) {
          const elapsed = performance.now() - t0;
          child.kill();
          if (!message.result) reject(new Error(JSON.stringify(message)));
          else resolvePromise({ elapsed, tools: message.result.tools.length });
        }
      }
    });
    child.on('error', reject);
    if (era === 'modern') {
      send({ id: 2, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } });
    } else {
      send({ id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } });
    }
  });
}

/** Spawn -> exit of `node -e 0`: what any Node program pays before its first line runs. */
function bareNode() {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolvePromise(performance.now() - t0));
  });
}

const median = (values) => +pct([...values].sort((a, b) => a - b), 50).toFixed(1);

/**
 * The starts measured in turn, so that a busy machine slows them all alike. The launcher's code
 * cache (scripts/launcher.mjs) lives in a directory of the bench's own, filled by one start first:
 * that is every start after the first of an installed version. `first start` is one without it.
 */
export async function coldStart(runs = 15) {
  const cacheEnv = { XDG_CACHE_HOME: tmp() };
  await rawColdStart(tmp(), 'legacy', cacheEnv);
  await rawColdStart(tmp(), 'modern', cacheEnv);
  const raw = [];
  const modern = [];
  const uncached = [];
  const sdk = [];
  const bare = [];
  for (let i = 0; i < runs; i++) {
    raw.push((await rawColdStart(tmp(), 'legacy', cacheEnv)).elapsed);
    modern.push((await rawColdStart(tmp(), 'modern', cacheEnv)).elapsed);
    uncached.push((await rawColdStart(tmp(), 'legacy', { NODE_DISABLE_COMPILE_CACHE: '1' })).elapsed);
    bare.push(await bareNode());
    const t0 = performance.now();
    const client = await start(tmp(), cacheEnv);
    await client.listTools();
    sdk.push(performance.now() - t0);
    await client.close();
  }
  return {
    runs,
    median_ms: median(raw), min_ms: +Math.min(...raw).toFixed(1), max_ms: +Math.max(...raw).toFixed(1),
    modern_2026_median_ms: median(modern),
    first_start_no_code_cache_median_ms: median(uncached),
    with_sdk_client_median_ms: median(sdk),
    bare_node_median_ms: median(bare),
  };
}

export async function addFlightRoundTrip(calls = 2000) {
  const client = await start(tmp());
  const times = [];
  const day = (i) => new Date(Date.UTC(2026, 0, 1) + i * 86_400_000 * 3).toISOString().slice(0, 10);
  for (let i = 0; i < calls + 50; i++) {
    const t0 = performance.now();
    const result = await client.callTool({
      name: 'add_flight',
      arguments: { flight_details: { airline: 'United Airlines', flight_number: `UA${i}`, departure_airport: 'LAX', arrival_airport: 'JFK',
        departure_time: `${day(i)}T08:00`, arrival_time: `${day(i)}T16:30` } },
    });
    const elapsed = performance.now() - t0;
    if (result.isError) throw new Error(JSON.stringify(result.content));
    if (i >= 50) times.push(elapsed); // the first 50 warm the JIT
  }
  await client.close();
  times.sort((a, b) => a - b);
  return { calls, p50_ms: +pct(times, 50).toFixed(2), p99_ms: +pct(times, 99).toFixed(2), max_ms: +times[times.length - 1].toFixed(2) };
}

export function bigExport(trips = 1000, itemsPerTrip = 10) {
  const dataDir = tmp();
  const worker = (mode) => JSON.parse(execFileSync(process.execPath,
    [resolve(import.meta.dirname, 'export-worker.js'), mode, String(trips), String(itemsPerTrip), dataDir], { encoding: 'utf8' }));
  const filled = worker('fill');
  return { trips, ...worker('export'), ...filled };
}
