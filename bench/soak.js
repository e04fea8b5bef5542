// Soak: the daemon under edits from 4 concurrent MCP HTTP clients, syncing to a real Radicale
// every minute, for SOAK_MINUTES (default 30). Not part of `npm run bench` or CI:
//   SOAK_MINUTES=30 node bench/soak.js
// Prints RSS at start and end (and every minute), the calls made, errors, and whether the
// calendar matches the model at the end.
// The mixed mode keeps the model at a steady size (SOAK_ITEMS, default 400 items): past it, an
// add becomes a delete. A model that grows without bound measures the CalDAV server instead:
// Radicale 3.1 checks a new event's UID against every event in the collection (has_uid in
// radicale/storage/__init__.py, called from app/put.py), so its creates slow down linearly — 51/s
// at 500 events, 6/s at 4,000 — and 9 calls/s for 30 minutes outruns it whatever the client does.
// SOAK_MODE=update: the clients only call update_item on 40 items added first, so the model does
// not grow (memory that still rises is per call, not per item). SOAK_NODE_FLAGS: node flags for
// the daemon; by default the heap cap `npm start` and deploy/ use ("" for none, to see V8's own
// sizing).
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort, radicale, tmp } from './servers.js';

const minutes = Number(process.env.SOAK_MINUTES ?? 30);
const steadyItems = Number(process.env.SOAK_ITEMS ?? 400);
const CLI = new URL('../dist/tripcal.mjs', import.meta.url).pathname;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const healthz = async () => (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()).memory_mb;
const rss = (pid) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024);

async function count(url) {
  const res = await fetch(`${url}/soak/trips/`, {
    method: 'PROPFIND', headers: { authorization: `Basic ${Buffer.from('soak:soak').toString('base64')}`, depth: '1' },
  });
  return ((await res.text()).match(/<D?:?href>[^<]*\.ics<\//gi) ?? []).length;
}

const server = await radicale('soak');
const dir = tmp();
const port = await freePort();
writeFileSync(join(dir, 'config.yaml'), [
  'log_level: warn', 'accounts:', '  - name: home', '    provider: caldav', `    url: ${server.url}/`, '    username: soak', '    password: soak',
  'sync:', '  schedule: "* * * * *"', '  jitter_seconds: 5', '  on_edit: false', 'http:', `  listen: 127.0.0.1:${port}`, '',
].join('\n'));
// SOAK_HEAP=1: heap snapshots of the daemon after the first minute and at the end, in the temp dir.
const heap = process.env.SOAK_HEAP === '1';
const nodeFlags = [
  ...(heap ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`] : []),
  ...(process.env.SOAK_NODE_FLAGS ?? '--max-old-space-size=128').split(' ').filter(Boolean),
];
const daemon = spawn(process.execPath, [...nodeFlags, CLI, 'daemon', '--config', join(dir, 'config.yaml'), '--data-dir', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
let errors = '';
daemon.stderr.on('data', (c) => (errors += c));
await sleep(1500);
const url = `http://127.0.0.1:${port}/mcp`;
const clients = await Promise.all(Array.from({ length: 4 }, async () => {
  const c = new Client({ name: 'soak', version: '1.0.0' });
  await c.connect(new StreamableHTTPClientTransport(new URL(url)));
  return c;
}));
const startRss = rss(daemon.pid);
const samples = [startRss];
let calls = 0;
let failures = 0;
const end = Date.now() + minutes * 60_000;
const ids = [];
const heapSamples = [(await healthz()).heap_used];
const sampler = setInterval(async () => {
  samples.push(rss(daemon.pid));
  heapSamples.push((await healthz()).heap_used);
  if (heap && samples.length === 2) daemon.kill('SIGUSR2');
}, 60_000);
const updateOnly = process.env.SOAK_MODE === 'update';
if (updateOnly) {
  for (let k = 0; k < 40; k++) {
    const res = await clients[0].callTool({ name: 'add_activity', arguments: { activity_details: { name: `Fixed ${k}`, start_time: `2026-05-${String(1 + (k % 28)).padStart(2, '0')}T09:00`, timezone: 'Europe/Rome' } } });
    ids.push(res.structuredContent.item_id);
  }
}
await Promise.all(clients.map(async (client, c) => {
  let i = 0;
  while (Date.now() < end) {
    i += 1;
    const day = String(1 + (i % 28)).padStart(2, '0');
    let res;
    if (updateOnly) {
      res = await client.callTool({ name: 'update_item', arguments: { item_id: ids[Math.floor(Math.random() * ids.length)], changes: { location: `Room ${i}` } } });
    } else if ((i % 5 === 0 && ids.length > 10) || ids.length >= steadyItems) {
      const id = ids.splice(Math.floor(Math.random() * ids.length), 1)[0];
      res = await client.callTool({ name: 'delete_event', arguments: { event_id: id } });
    } else if (i % 3 === 0 && ids.length > 0) {
      res = await client.callTool({ name: 'update_item', arguments: { item_id: ids[Math.floor(Math.random() * ids.length)], changes: { location: `Room ${i}` } } });
    } else {
      res = await client.callTool({ name: 'add_activity', arguments: { activity_details: { name: `Session ${c}-${i}`, start_time: `2026-05-${day}T${String(8 + (i % 10)).padStart(2, '0')}:00`, timezone: 'Europe/Rome' } } });
      if (!res.isError) ids.push(res.structuredContent.item_id);
    }
    calls += 1;
    if (res.isError) failures += 1;
    await sleep(200);
  }
}));
// Let the scheduled syncs catch up (up to SOAK_DRAIN_MINUTES, default 30), then compare the
// calendar with the model.
const editsEnded = Date.now();
clearInterval(sampler);
const endRss = rss(daemon.pid);
const endMemory = await healthz();
const endHeap = endMemory.heap_used;
if (heap) daemon.kill('SIGUSR2');
const status = async () => (await clients[0].callTool({ name: 'sync_status', arguments: {} })).structuredContent.accounts[0];
let last;
const drainEnd = Date.now() + Number(process.env.SOAK_DRAIN_MINUTES ?? 30) * 60_000;
while (Date.now() < drainEnd) {
  await sleep(5000);
  last = await status();
  if (last.pending === 0 && last.state === 'ok') break;
}
const drainSeconds = Math.round((Date.now() - editsEnded) / 1000);
const trips = (await clients[0].callTool({ name: 'list_trips', arguments: {} })).structuredContent.trips;
let items = 0;
for (const t of trips) items += (await clients[0].callTool({ name: 'get_trip', arguments: { trip_id: t.id } })).structuredContent.items.length;
const stored = await count(server.url);
await Promise.all(clients.map((c) => c.close()));
daemon.kill('SIGTERM');
await new Promise((r) => daemon.on('exit', r));
server.stop();
console.log(JSON.stringify({
  minutes, mode: updateOnly ? 'update' : `mixed (steady at ${steadyItems} items)`, calls, failures, rss_start_mb: startRss, rss_end_mb: endRss, rss_samples_mb: samples,
  heap_used_start_mb: heapSamples[0], heap_used_end_mb: endHeap, heap_samples_mb: heapSamples, drain_seconds: drainSeconds, memory_end_mb: endMemory,
  items_in_model: items, events_in_calendar: stored, sync_state: last?.state, pending: last?.pending,
  errors_logged: (errors.match(/"level":"error"/g) ?? []).length, ...(heap ? { snapshots: dir } : {}),
}));
