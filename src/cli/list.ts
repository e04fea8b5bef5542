// `tripcal list`: the user's trips, one per line, with their ids for export and import.
import { tripView } from '../trips/views.js';
import { withApp, type GlobalOptions } from './common.js';

export async function listCommand(options: GlobalOptions & { user?: string; json?: boolean }): Promise<void> {
  await withApp(options, async (app) => {
    const trips = (await app.trips.listTrips(options.user)).map(({ trip, items, zone }) => tripView(trip, items, zone));
    if (options.json) {
      process.stdout.write(JSON.stringify(trips, null, 2) + '\n');
      return;
    }
    if (trips.length === 0) process.stdout.write('No trips yet.\n');
    for (const t of trips) {
      process.stdout.write(`${t.id}  ${t.start_date ?? '?'} → ${t.end_date ?? '?'}  ${String(t.item_count).padStart(3)} item${t.item_count === 1 ? ' ' : 's'}  ${t.title}\n`);
    }
  });
}
