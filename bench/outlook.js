// Outlook benchmarks against the HTTPS Graph fake (issue: Outlook). Prints numbers only.
//  - first sync of 500 items: wall time, HTTP requests, how many were $batch requests
//  - a second sync with nothing changed, and one changed item: requests
//  - free/busy for 30 days (getSchedule): requests
// The fake's test CA must be trusted from the start (NODE_EXTRA_CA_CERTS): run.js sets it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { build } from 'esbuild';
import { openApp } from '../dist/src/app.js';
import { tmp, seedActivities } from './servers.js';

/**
 * The fake and the sign-in helper live in test/support as TypeScript: bundle them for plain node,
 * into this checkout's dist/ (its node_modules resolves the bundle's own imports: msal-node,
 * luxon), from this checkout's test/support by absolute path (node_modules may be a link).
 */
let support;
export function loadSupport() {
  support ??= bundleSupport();
  return support;
}

async function bundleSupport() {
  const dir = fileURLToPath(new URL('../dist/bench-support/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, 'outlook-support.mjs');
  const support = (file) => JSON.stringify(fileURLToPath(new URL(`../test/support/${file}`, import.meta.url)));
  writeFileSync(join(dir, 'entry.ts'), `export { GraphFake } from ${support('graph-fake.ts')};\nexport { signIn } from ${support('outlook.ts')};\n`);
  await build({
    entryPoints: [join(dir, 'entry.ts')], bundle: true, platform: 'node', format: 'esm', outfile, logLevel: 'warning',
    external: ['@azure/msal-node', '@microsoft/microsoft-graph-client', 'luxon'],
  });
  return import(pathToFileURL(outfile).href);
}

/** A config with the Graph fake as the Outlook client's endpoints and one account, `bench`. */
export function outlookConfig(fake, accountLines = []) {
  return [
    'outlook:', `  client_id: ${fake.clientId}`, `  tenant_id: ${fake.tenant}`, `  authority: ${fake.authority}`, `  graph_url: ${fake.graphUrl}`,
    'accounts:', '  - name: bench', '    provider: outlook', ...accountLines,
  ].join('\n');
}

export async function outlookBench(items = 500) {
  const { GraphFake, signIn } = await loadSupport();
  GraphFake.tlsDir = new URL('../test/support/tls/', import.meta.url);
  const fake = await new GraphFake().start();
  try {
    const dir = tmp();
    const config = join(dir, 'config.yaml');
    writeFileSync(config, outlookConfig(fake, ['    calendar: Trips']));
    const app = await openApp({ dataDir: dir, configPath: config });
    await app.vault.set('outlook:bench:msal-cache', (await signIn(fake)).cache);
    const year = new Date().getUTCFullYear() + 1;
    const { ids } = await seedActivities(app, items, year);
    const t0 = performance.now();
    const [first] = await app.sync.sync();
    const firstMs = performance.now() - t0;
    const outer = fake.requests.filter((r) => !r.part);
    const t1 = performance.now();
    const [second] = await app.sync.sync();
    const steadyMs = performance.now() - t1;
    await app.trips.updateItem(undefined, ids[250], { changes: { name: 'Activity 250 (moved)' } });
    const [oneChanged] = await app.sync.sync();
    for (let d = 0; d < 30; d++) {
      fake.addUserEvent({ subject: 'Busy', start: { dateTime: `${year}-03-${String(d + 1).padStart(2, '0')}T10:00:00`, timeZone: 'UTC' }, end: { dateTime: `${year}-03-${String(d + 1).padStart(2, '0')}T10:30:00`, timeZone: 'UTC' } });
    }
    const before = fake.requests.length;
    const busy = await app.sync.freeBusy('bench', `${year}-03-01T00:00:00Z`, `${year}-03-31T00:00:00Z`);
    const freeBusyRequests = fake.requests.length - before;
    await app.close();
    return {
      items,
      first_sync_ms: Math.round(firstMs),
      first_sync_requests: first.requests,
      first_sync_batches: outer.filter((r) => r.path === '/$batch').length,
      first_sync_created: first.counts.created,
      steady_state_requests: second.requests,
      steady_state_ms: Math.round(steadyMs),
      one_changed_requests: oneChanged.requests,
      freebusy_30_days_requests: freeBusyRequests,
      freebusy_busy_intervals: busy.length,
    };
  } finally {
    await fake.stop();
  }
}
