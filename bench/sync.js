// Sync benchmarks against a real Radicale (issue: Sync engine + CalDAV). Prints numbers only.
//  - first sync of 500 items: wall time and HTTP requests
//  - a second sync with nothing changed: requests
//  - one changed item among 500: requests
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openApp } from '../dist/src/app.js';
import { radicale, tmp, seedActivities } from './servers.js';


export async function syncBench(items = 500) {
  const server = await radicale();
  try {
    const dir = tmp();
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `accounts:\n  - name: bench\n    provider: caldav\n    url: ${server.url}/\n    username: bench\n    password: bench\n    calendar: Trips\n`);
    const app = await openApp({ dataDir: dir, configPath: config });
    const { ids } = await seedActivities(app, items);
    // The first sync connects (discovery, calendar creation) too; count that apart.
    const t0 = performance.now();
    const [first] = await app.sync.sync();
    const firstMs = performance.now() - t0;
    const [second] = await app.sync.sync();
    const [third] = await app.sync.sync();
    await app.trips.updateItem(undefined, ids[250], { changes: { name: 'Activity 250 (moved)' } });
    const [oneChanged] = await app.sync.sync();
    await app.close();
    return {
      items,
      first_sync_ms: Math.round(firstMs),
      first_sync_requests: first.requests,
      first_sync_created: first.counts.created,
      second_sync_requests: second.requests,
      steady_state_requests: third.requests,
      one_changed_requests: oneChanged.requests,
      one_changed_updated: oneChanged.counts.updated,
    };
  } finally {
    server.stop();
  }
}
