// One bench worker: `clients` MCP sessions over HTTP calling add_activity; posts the latencies back.
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const { url, clients, calls, offset } = workerData;
const sessions = await Promise.all(Array.from({ length: clients }, async () => {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}));
parentPort.postMessage({ ready: true });
await new Promise((resolve) => parentPort.once('message', resolve));
const latencies = [];
await Promise.all(sessions.map(async (client, k) => {
  const c = offset + k;
  for (let i = 0; i < calls; i++) {
    const day = String(1 + ((c + i) % 28)).padStart(2, '0');
    const s = performance.now();
    const res = await client.callTool({ name: 'add_activity', arguments: { user_id: `u${c % 5}`, activity_details: { name: `Talk ${c}-${i}`, start_time: `2026-03-${day}T${String(8 + (i % 10)).padStart(2, '0')}:00`, timezone: 'Europe/Paris' } } });
    if (res.isError) throw new Error(JSON.stringify(res.content));
    latencies.push([i, performance.now() - s]);
  }
}));
await Promise.all(sessions.map((c) => c.close()));
parentPort.postMessage({ latencies });
