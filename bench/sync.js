// Sync benchmarks against a real Radicale (issue: Sync engine + CalDAV). Prints numbers only.
//  - first sync of 500 items: wall time and HTTP requests
//  - a second sync with nothing changed: requests
//  - one changed item among 500: requests
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openApp } from '../dist/src/app.js';
import { radicale, tmp } from './servers.js';


export async function syncBench(items = 500) {
  const server = await radicale();
  try {
    const dir = tmp();
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `accounts:\n  - name: bench\n    provider: caldav\n    url: ${server.url}/\n    username: bench\n    password: bench\n    calendar: Trips\n`);
    const app = openApp({ dataDir: dir, configPath: config });
    const trip = app.trips.createTrip(undefined, { title: 'Bench', timezone: 'Europe/Paris', start_date: '2026-01-01', end_date: '2026-12-31' });
    const ids = [];
    for (let i = 0; i < items; i++) {
      const day = new Date(Date.UTC(2026, 0, 1) + (i % 360) * 86_400_000).toISOString().slice(0, 10);
      ids.push(app.trips.addItem(undefined, { kind: 'activity', details: { name: `Activity ${i}`, start_time: `${day}T${String(8 + (i % 10)).padStart(2, '0')}:00` } }, { tripId: trip.id, path: 'a' }).item.id);
    }
    // The first sync connects (discovery, calendar creation) too; count that apart.
    const t0 = performance.now();
    const [first] = await app.sync.sync();
    const firstMs = performance.now() - t0;
    const [second] = await app.sync.sync();
    const [third] = await app.sync.sync();
    app.trips.updateItem(undefined, ids[250], { changes: { name: 'Activity 250 (moved)' } });
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
