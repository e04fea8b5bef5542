// `tripcal import FILE.ics [--trip ID]`: adds a booking or calendar file's events as activities.
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import { itemSummary } from '../events/desired.js';
import { withApp, type GlobalOptions } from './common.js';

export interface ImportOptions extends GlobalOptions {
  trip?: string;
  user?: string;
}

export async function importCommand(file: string, options: ImportOptions): Promise<void> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError('FILE', `cannot read ${file}: ${(error as Error).message}`);
  }
  await withApp(options, async (app) => {
    const result = await app.trips.importIcs(options.user, text, options.trip);
    for (const item of result.created) process.stdout.write(`added     ${item.id}  ${item.tripId}  ${item.startUtc}  ${itemSummary(item)}\n`);
    for (const item of result.updated) process.stdout.write(`updated   ${item.id}  ${item.tripId}  ${item.startUtc}  ${itemSummary(item)}\n`);
    for (const skip of result.skipped) process.stdout.write(`skipped   ${skip.uid ?? '(no UID)'}: ${skip.reason}\n`);
    process.stdout.write(`${result.created.length} added, ${result.updated.length} updated, ${result.unchanged.length} unchanged, ${result.skipped.length} skipped\n`);
  });
}
