// Child process for the export benchmark. `fill` puts trips into a real database; `export`, in a
// fresh process as `tripcal export` would run, times one export of all of them (the user's whole
// feed) and reports its own max RSS.
import { performance } from 'node:perf_hooks';
import { openApp } from '../dist/src/app.js';
import { closeSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { exportCalendar } from '../dist/src/cli/export.js';

const [mode, trips, perTrip, dataDir] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), process.argv[5]];
const app = await openApp({ dataDir });
if (mode === 'fill') await fill();
else exportAll();

async function fill() {
const airports = [['LAX', 'JFK'], ['JFK', 'LHR'], ['LHR', 'NRT'], ['CDG', 'SIN'], ['SYD', 'AKL']];
const fill0 = performance.now();
for (let t = 0; t < trips; t++) {
  const base = Date.UTC(2026, 0, 1) + t * 7 * 86_400_000;
  const day = (d) => new Date(base + d * 86_400_000).toISOString().slice(0, 10);
  const [from, to] = airports[t % airports.length];
  await app.trips.createItinerary(undefined, {
    title: `Trip ${t}`,
    flights: [
      { airline: 'United Airlines', flight_number: `UA${t}`, departure_airport: from, arrival_airport: to, departure_time: `${day(0)}T08:00`, arrival_time: `${day(1)}T06:00` },
      { airline: 'United Airlines', flight_number: `UA${t + 1}`, departure_airport: to, arrival_airport: from, departure_time: `${day(5)}T10:00`, arrival_time: `${day(5)}T23:00` },
    ],
    accommodations: [{ name: `Hotel ${t}`, check_in: day(1), check_out: day(5), address: '1 Main Street' }],
    activities: Array.from({ length: perTrip - 3 }, (_, i) => ({ name: `Activity ${i}`, start_time: `${day(1 + (i % 4))}T${String(9 + i).padStart(2, '0')}:00`, description: 'Guided tour, confirmation ABC' })),
  });
}
process.stdout.write(JSON.stringify({ fill_ms: Math.round(performance.now() - fill0) }));
await app.close();
}

async function exportAll() {
  // Exactly what `tripcal export --all -o FILE` does, timed in a fresh process.
  const t0 = performance.now();
  const out = openSync(join(dataDir, 'all.ics'), 'w');
  const { events } = await exportCalendar(app, {}, out);
  closeSync(out);
  const exportMs = performance.now() - t0;
  const items = (await app.store.counts()).items;
  await app.close();
  process.stdout.write(JSON.stringify({ items, events, bytes: statSync(join(dataDir, 'all.ics')).size, export_ms: Math.round(exportMs),
    max_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) }));
}
