// Google benchmarks against the loopback fake (issue: Google Calendar). Prints numbers only.
//  - first sync of 500 items: wall time, HTTP requests, how many were batches
//  - a second sync with nothing changed, and one changed item: requests
//  - free/busy for 30 days across 5 calendars: requests (trips in their own calendar, and in primary)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { build } from 'esbuild';
import { openApp } from '../dist/src/app.js';
import { tmp, seedActivities } from './servers.js';


/** The fake lives in test/support as TypeScript: bundle it for plain node. */
export async function loadFake() {
  const outfile = join(tmp(), 'google-fake.mjs');
  await build({ entryPoints: ['test/support/google-fake.ts'], bundle: true, platform: 'node', format: 'esm', outfile, logLevel: 'warning' });
  return import(outfile);
}

const SCOPES = 'https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.readonly https://www.googleapis.com/auth/calendar.app.created';

async function openGoogleApp(fake, calendar) {
  const dir = tmp();
  const config = join(dir, 'config.yaml');
  writeFileSync(config, [
    'google:', `  client_id: ${fake.clientId}`, `  client_secret: ${fake.clientSecret}`, `  token_url: ${fake.tokenUrl}`, `  api_root: ${fake.url}/`,
    'accounts:', '  - name: bench', '    provider: google', `    calendar: ${calendar}`,
  ].join('\n'));
  const app = await openApp({ dataDir: dir, configPath: config });
  await app.vault.set('google:bench:tokens', JSON.stringify(fake.issueTokens(SCOPES)));
  return app;
}

export async function googleBench(items = 500) {
  const { startGoogleFake } = await loadFake();
  const fake = await startGoogleFake();
  try {
    const app = await openGoogleApp(fake, 'Trips');
    const { ids } = await seedActivities(app, items);
    const t0 = performance.now();
    const [first] = await app.sync.sync();
    const firstMs = performance.now() - t0;
    const outer = fake.requests.filter((r) => !r.part);
    const [second] = await app.sync.sync();
    await app.trips.updateItem(undefined, ids[250], { changes: { name: 'Activity 250 (moved)' } });
    const [oneChanged] = await app.sync.sync();

    for (let c = 0; c < 4; c++) {
      const id = `cal${c}@group.calendar.google.com`;
      fake.addCalendar({ id, summary: `Calendar ${c}`, timeZone: 'Europe/Paris', accessRole: 'reader' });
      for (let d = 0; d < 30; d++) fake.addUserEvent({ summary: 'Busy', start: { dateTime: `2026-03-${String(d + 1).padStart(2, '0')}T1${c}:00:00Z` }, end: { dateTime: `2026-03-${String(d + 1).padStart(2, '0')}T1${c}:30:00Z` } }, id);
    }
    const freeBusyRequests = async (a) => {
      await a.sync.listCalendars('bench'); // the calendar list is read once per connection
      const before = fake.requests.length;
      const busy = await a.sync.freeBusy('bench', '2026-03-01T00:00:00Z', '2026-03-31T00:00:00Z');
      return { requests: fake.requests.length - before, intervals: busy.length };
    };
    const dedicated = await freeBusyRequests(app);
    const shared = await openGoogleApp(fake, 'primary');
    const inPrimary = await freeBusyRequests(shared);
    await app.close();
    await shared.close();
    return {
      items,
      first_sync_ms: Math.round(firstMs),
      first_sync_requests: first.requests,
      first_sync_batches: outer.filter((r) => r.path === '/batch/calendar/v3').length,
      first_sync_created: first.counts.created,
      steady_state_requests: second.requests,
      one_changed_requests: oneChanged.requests,
      freebusy_5_calendars_30_days_requests: dedicated.requests,
      freebusy_busy_intervals: dedicated.intervals,
      freebusy_with_trips_in_primary_requests: inPrimary.requests,
    };
  } finally {
    await fake.stop();
  }
}
