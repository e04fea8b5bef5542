// `npm run bench`: runs every benchmark and prints its numbers as JSON lines.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The Graph fake speaks HTTPS with a test CA, which Node trusts only if told at start.
const testCa = fileURLToPath(new URL('../test/support/tls/ca.pem', import.meta.url));
if (process.env.NODE_EXTRA_CA_CERTS !== testCa) {
  const child = spawnSync(process.execPath, process.argv.slice(1), { stdio: 'inherit', env: { ...process.env, NODE_EXTRA_CA_CERTS: testCa } });
  process.exit(child.status ?? 1);
}
import { addFlightRoundTrip, bigExport, coldStart } from './core.js';
import { beforeAfter, RECORDED } from './baseline.js';
import { caldavColdBench } from './caldav-cold.js';
import { daemonBench } from './daemon.js';
import { googleBench } from './google.js';
import { importBench } from './import.js';
import { outlookBench } from './outlook.js';
import { outlookPatchBench } from './outlook-patch.js';
import { pageBench } from './page.js';
import { pushBench } from './push.js';
import { replicasBench } from './replicas.js';
import { sessionsBench } from './sessions.js';
import { storeBench } from './store.js';
import { syncBench } from './sync.js';

const benches = {
  'stdio cold start to tools/list': () => coldStart(),
  'add_flight round trip (stdio, SDK client)': () => addFlightRoundTrip(),
  'export 1,000 trips x 10 items': () => bigExport(),
  'CalDAV sync of 500 items (Radicale)': () => syncBench(),
  'CalDAV from a new process each sync, 500 items (Radicale; requests counted by a proxy, peak RSS by time -v)': () => beforeAfter((root) => caldavColdBench(root), RECORDED.caldav),
  'Google sync of 500 items (loopback fake)': () => googleBench(),
  'Outlook sync of 500 items (loopback Graph fake)': () => outlookBench(),
  'Outlook: the PATCH of a one-field change (its fields, from the Graph fake\'s log)': () => beforeAfter(outlookPatchBench, RECORDED.outlookPatch),
  'daemon: start, 50 HTTP clients, feed of 1,000 events': () => daemonBench(),
  'daemon: idle MCP clients under a 128 MB heap (stateless)': () => sessionsBench(),
  'hostile booking documents, 1 MB and 5 MB (import_reservations)': () => importBench(),
  'status page: GET / with 50 trips of 8 items (daemon, over HTTP)': () => pageBench(),
  'the store on SQLite and on PostgreSQL: edits, a trip of 8 items, list_trips, a Google sync of 500 items': () => storeBench(),
  'push versus polling: Google requests per account per day (loopback fake, the daemon), and 100,000 users against the project quota': () => pushBench(),
  'replicas on PostgreSQL: Google accounts synced per minute with 1, 2 and 4 daemons (loopback fake at 40 ms a call)': () => replicasBench(),
};
const only = process.argv[2];
for (const [name, run] of Object.entries(benches)) {
  if (only && !name.includes(only)) continue;
  const result = await run();
  process.stdout.write(`${JSON.stringify({ bench: name, ...result })}\n`);
}
