// `tripcal export TRIP_ID [-o file.ics]`: the trip as RFC 5545 text, to stdout or a file.
import { writeFileSync } from 'node:fs';
import { exportTrip } from '../mcp/tools/ics.js';
import { withApp, type GlobalOptions } from './common.js';

export interface ExportOptions extends GlobalOptions {
  output?: string;
  user?: string;
}

export async function exportCommand(tripId: string, options: ExportOptions): Promise<void> {
  await withApp(options, (app) => {
    const { ics, eventCount, trip } = exportTrip(app, options.user, tripId);
    if (options.output && options.output !== '-') {
      writeFileSync(options.output, ics);
      process.stderr.write(`Wrote ${eventCount} events of "${trip.title}" to ${options.output}\n`);
    } else {
      process.stdout.write(ics);
    }
  });
}
