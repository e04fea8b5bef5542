// Daemon benchmarks (issue: the daemon). Prints numbers only.
//  - start of `tripcal daemon` to the first MCP answer over HTTP (tools/list); idle RSS
//  - 50 concurrent MCP HTTP clients calling add_activity: throughput and latency percentiles
//  - the .ics feed of a user with 1,000 events: p50 of a full answer and of a 304
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort, tmp } from './servers.js';

const CLI = new URL('../dist/tripcal.mjs', import.meta.url).pathname;
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
const round = (n) => Math.round(n * 10) / 10;

async function startDaemon(dir) {
  const port = await freePort();
  writeFileSync(join(dir, 'config.yaml'), `log_level: warn\nhttp:\n  listen: 127.0.0.1:${port}\n`);
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, 'daemon', '--config', join(dir, 'config.yaml'), '--data-dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  const url = `http://127.0.0.1:${port}/mcp`;
  for (;;) {
    try {
      const client = await connect(url);
      await client.listTools();
      const ms = performance.now() - started;
      await client.close();
      for (let i = 0; i < 100 && !/Feed of me:/.test(out); i++) await new Promise((r) => setTimeout(r, 20));
      const feed = /Feed of me:\s+(http\S+)/.exec(out)?.[1];
      return { child, url, feed, ms };
    } catch {
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

async function connect(url) {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return round(Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024);
}

const stop = (child) => new Promise((resolve) => {
  child.on('exit', resolve);
  child.kill('SIGTERM');
});

export async function daemonBench({ clients = 50, callsPerClient = 20, feedEvents = 1000 } = {}) {
  // Start to first answer, five times.
  const starts = [];
  for (let i = 0; i < 5; i++) {
    const d = await startDaemon(tmp());
    starts.push(d.ms);
    await stop(d.child);
  }
  const d = await startDaemon(tmp());
  await new Promise((r) => setTimeout(r, 2000));
  const idleRss = rssMb(d.child.pid);

  // 50 clients at once, spread over worker threads so the clients' own work does not queue
  // behind one event loop (one process parsing 50 SSE streams measures itself, not the daemon).
  const workers = 5;
  const pool = Array.from({ length: workers }, (_, w) => new Worker(new URL('./daemon-client.js', import.meta.url), {
    workerData: { url: d.url, clients: clients / workers, calls: callsPerClient, offset: w * (clients / workers) },
  }));
  await Promise.all(pool.map((w) => new Promise((resolve) => w.once('message', resolve))));
  const results = pool.map((w) => new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  }));
  const t0 = performance.now();
  for (const w of pool) w.postMessage('go');
  const timed = (await Promise.all(results)).flatMap((r) => r.latencies);
  const wall = performance.now() - t0;
  const latencies = timed.map(([, ms]) => ms);
  // Each session's first call also pays for its start on both sides; the rest is the steady state.
  const warm = timed.filter(([i]) => i > 0).map(([, ms]) => ms).sort((a, b) => a - b);
  latencies.sort((a, b) => a - b);
  const busyRss = rssMb(d.child.pid);

  // A feed of 1,000 events (the default user).
  const one = await connect(d.url);
  for (let i = 0; i < feedEvents; i++) {
    const day = String(1 + (i % 28)).padStart(2, '0');
    await one.callTool({ name: 'add_activity', arguments: { activity_details: { name: `Event ${i}`, start_time: `2026-0${1 + (i % 9)}-${day}T${String(8 + (i % 12)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`, timezone: 'Europe/Paris' } } });
  }
  await one.close();
  await new Promise((r) => setTimeout(r, 1500)); // the feed is rewritten shortly after the last change
  const full = [];
  const cached = [];
  let etag = '';
  let bytes = 0;
  for (let i = 0; i < 100; i++) {
    let s = performance.now();
    const res = await fetch(d.feed);
    const body = await res.arrayBuffer();
    full.push(performance.now() - s);
    etag = res.headers.get('etag');
    bytes = body.byteLength;
    s = performance.now();
    const again = await fetch(d.feed, { headers: { 'if-none-match': etag } });
    await again.arrayBuffer();
    if (again.status !== 304) throw new Error(`expected 304, got ${again.status}`);
    cached.push(performance.now() - s);
  }
  full.sort((a, b) => a - b);
  cached.sort((a, b) => a - b);
  // A wrong token: one sharing all but its last character with the real one, against a random one.
  const real = /\/feeds\/(.+)\.ics$/.exec(d.feed)[1];
  const wrongTiming = async (token) => {
    const times = [];
    for (let i = 0; i < 300; i++) {
      const s = performance.now();
      const res = await fetch(d.feed.replace(real, token));
      await res.arrayBuffer();
      if (res.status !== 404) throw new Error(`expected 404, got ${res.status}`);
      times.push(performance.now() - s);
    }
    return round(pct(times.sort((a, b) => a - b), 0.5) * 1000) / 1000;
  };
  const nearMiss = await wrongTiming(`${real.slice(0, -1)}${real.endsWith('A') ? 'B' : 'A'}`);
  const farMiss = await wrongTiming('Z'.repeat(real.length));
  await stop(d.child);
  starts.sort((a, b) => a - b);
  return {
    start_to_first_mcp_answer_ms_median: round(pct(starts, 0.5)),
    start_to_first_mcp_answer_ms_max: round(starts[starts.length - 1]),
    idle_rss_mb: idleRss,
    clients,
    calls: latencies.length,
    add_activity_per_second: round(latencies.length / (wall / 1000)),
    add_activity_p50_ms: round(pct(latencies, 0.5)),
    add_activity_p99_ms: round(pct(latencies, 0.99)),
    add_activity_p99_after_first_call_ms: round(pct(warm, 0.99)),
    rss_after_load_mb: busyRss,
    feed_events: feedEvents,
    feed_bytes: bytes,
    feed_200_p50_ms: round(pct(full, 0.5)),
    feed_304_p50_ms: round(pct(cached, 0.5)),
    feed_404_near_miss_p50_ms: nearMiss,
    feed_404_random_p50_ms: farMiss,
  };
}
