// `tripcal sync [--trip ID] [--account NAME]`: makes the configured calendars match the trips,
// with a progress line on a terminal and a summary per account. Exit code 1 when an account
// did not finish cleanly.
import { withApp, type GlobalOptions } from './common.js';

export interface SyncOptions extends GlobalOptions {
  trip?: string;
  account?: string;
  user?: string;
  recreate?: boolean;
  resolve?: 'model' | 'remote';
  allowMassDelete?: boolean;
}

export async function syncCommand(options: SyncOptions): Promise<void> {
  await withApp(options, async (app) => {
    if ((await app.sync.accounts()).length === 0) {
      process.stdout.write('No calendar account is configured (see config.example.yaml); the .ics feed is up to date.\n');
      return;
    }
    const tty = process.stderr.isTTY;
    const reports = await app.sync.sync({
      account: options.account,
      userId: options.user,
      tripId: options.trip,
      recreate: options.recreate,
      resolve: options.resolve,
      allowMassDelete: options.allowMassDelete,
      onProgress: ({ account, done, total }) => {
        if (tty) process.stderr.write(`\r${account}: ${done}/${total} `);
      },
    });
    if (tty) process.stderr.write('\r\x1b[K');
    for (const r of reports) {
      const c = r.counts;
      process.stdout.write(`${r.account}: ${r.status} — created ${c.created}, updated ${c.updated}, deleted ${c.deleted}, unchanged ${c.unchanged}, failed ${c.failed}`
        + `${c.conflicts ? `, conflicts ${c.conflicts}` : ''}${c.pulled ? `, taken from the calendar ${c.pulled}` : ''}${r.gone.length ? `, deleted in the calendar ${r.gone.length}` : ''}`
        + ` (${r.requests} request${r.requests === 1 ? '' : 's'})\n`);
      if (r.message) process.stdout.write(`  ${r.message}\n`);
    }
    if (reports.some((r) => r.status !== 'ok')) process.exitCode = 1;
  });
}
