// The status page (issue 21): `tripcal daemon` with 50 trips of 8 items each (2 flights, a stay
// with its check-in and check-out, 5 activities), GET / timed over HTTP from request to the
// last byte: p50 and p95 of 30 loads after 3 warm-ups, and the page's size. Prints numbers only.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort, tmp } from './servers.js';

const CLI = new URL('../dist/tripcal.mjs', import.meta.url).pathname;
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
const round = (n) => Math.round(n * 10) / 10;

function trip(i) {
  const day = (n) => `2026-${String(1 + (i % 12)).padStart(2, '0')}-${String(n).padStart(2, '0')}`;
  return {
    trip_name: `Bench trip ${i}`,
    flights: [
      { airline: 'Japan Airlines', flight_number: `JL${60 + i}`, departure_airport: 'NRT', arrival_airport: 'LAX', departure_time: `${day(2)}T17:00`, arrival_time: `${day(2)}T10:30` },
      { airline: 'Japan Airlines', flight_number: `JL${160 + i}`, departure_airport: 'LAX', arrival_airport: 'NRT', departure_time: `${day(9)}T12:00`, arrival_time: `${day(10)}T16:00` },
    ],
    accommodations: [{ name: `Hotel ${i}`, check_in: `${day(2)}T15:00`, check_out: `${day(9)}T11:00`, timezone: 'America/Los_Angeles' }],
    activities: [3, 4, 5, 6, 7].map((d) => ({ name: `Activity ${i}.${d}`, start_time: `${day(d)}T10:00`, end_time: `${day(d)}T12:00`, timezone: 'America/Los_Angeles', location: 'Somewhere' })),
  };
}

export async function pageBench({ trips = 50, loads = 30 } = {}) {
  const dir = tmp();
  const port = await freePort();
  writeFileSync(join(dir, 'config.yaml'), `log_level: warn\nhttp:\n  listen: 127.0.0.1:${port}\n`);
  const child = spawn(process.execPath, [CLI, 'daemon', '--config', join(dir, 'config.yaml'), '--data-dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout.resume();
  const base = `http://127.0.0.1:${port}`;
  let client;
  for (;;) {
    try {
      client = new Client({ name: 'bench', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)));
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  for (let i = 0; i < trips; i++) {
    const result = await client.callTool({ name: 'create_itinerary', arguments: trip(i) });
    if (result.isError) throw new Error(JSON.stringify(result.content));
  }
  await client.close();
  const times = [];
  let bytes = 0;
  for (let i = 0; i < loads + 3; i++) {
    const started = performance.now();
    const res = await fetch(`${base}/`);
    const body = await res.text();
    const ms = performance.now() - started;
    if (res.status !== 200 || !body.includes(`Bench trip ${trips - 1}`)) throw new Error(`GET / answered ${res.status}`);
    bytes = Buffer.byteLength(body);
    if (i >= 3) times.push(ms);
  }
  await new Promise((resolve) => {
    child.on('exit', resolve);
    child.kill('SIGTERM');
  });
  times.sort((a, b) => a - b);
  return { trips, items: trips * 8, page_kb: round(bytes / 1024), p50_ms: round(pct(times, 0.5)), p95_ms: round(pct(times, 0.95)), max_ms: round(times.at(-1)) };
}
