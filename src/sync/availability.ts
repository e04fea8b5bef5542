// check_availability: busy time in the user's connected calendars (their own events, not the
// trips tripcal put there) and which trip items collide with it. An answer is only as good as
// the calendars that gave it: those not reached are listed and the answer is marked incomplete,
// so "no busy time" is never said when tripcal could not ask.
import { InputError } from '../errors.js';
import { itemSummary } from '../events/desired.js';
import { showTime, type ShownTime } from '../model/time.js';
import type { Store } from '../store/store.js';
import type { SyncEngine } from './engine.js';

/** The longest range one check may cover. */
export const MAX_AVAILABILITY_DAYS = 366;

export interface Availability {
  busy: Array<{ account: string; calendar: string | null; start: ShownTime; end: ShownTime }>;
  collisions: Array<{ item_id: string; trip_id: string; summary: string; start: ShownTime; end: ShownTime; account: string; calendar: string | null; busy_start: ShownTime; busy_end: ShownTime }>;
  errors: Array<{ account: string; error: string }>;
  /** The accounts asked. */
  accounts: string[];
  /** The accounts that answered; busy time is known for these only. */
  answered: string[];
  /** Whether every account asked answered. */
  complete: boolean;
}

export async function checkAvailability(engine: SyncEngine, store: Store, user: { id: string; timezone: string }, fromUtc: string, toUtc: string, only?: string[]): Promise<Availability> {
  if (toUtc <= fromUtc) throw new InputError('end', `must be after the start (${fromUtc})`);
  if (Date.parse(toUtc) - Date.parse(fromUtc) > MAX_AVAILABILITY_DAYS * 86_400_000) throw new InputError('end', `the range may cover at most ${MAX_AVAILABILITY_DAYS} days`);
  const mine = await engine.accounts(user.id);
  for (const [i, name] of (only ?? []).entries()) {
    if (!mine.some((a) => a.name === name)) throw new InputError(`calendars[${i}]`, `no account "${name}" for user "${user.id}" (there are: ${mine.map((a) => a.name).join(', ') || 'none'})`);
  }
  const accounts = only?.length ? mine.filter((a) => only.includes(a.name)) : mine;
  const answers = await Promise.all(accounts.map(async (a) => {
    try {
      return { account: a.name, busy: await engine.freeBusy(a.name, fromUtc, toUtc), error: null };
    } catch (error) {
      return { account: a.name, busy: [], error: (error as Error).message };
    }
  }));
  const show = (utc: string) => showTime(utc, user.timezone);
  const busy = answers.flatMap((a) => a.busy.map((b) => ({ account: a.account, calendar: b.calendar ?? null, start: b.start, end: b.end })))
    .sort((x, y) => x.start.localeCompare(y.start));
  const items = (await store.userItems(user.id)).filter((i) => i.startUtc < toUtc && i.endUtc > fromUtc);
  const collisions = items.flatMap((item) => busy
    .filter((b) => item.startUtc < b.end && item.endUtc > b.start)
    .map((b) => ({
      item_id: item.id, trip_id: item.tripId, summary: itemSummary(item),
      start: showTime(item.startUtc, item.startTz), end: showTime(item.endUtc, item.endTz),
      account: b.account, calendar: b.calendar, busy_start: show(b.start), busy_end: show(b.end),
    })));
  return {
    busy: busy.map((b) => ({ account: b.account, calendar: b.calendar, start: show(b.start), end: show(b.end) })),
    collisions,
    errors: answers.filter((a) => a.error !== null).map((a) => ({ account: a.account, error: a.error! })),
    accounts: accounts.map((a) => a.name),
    answered: answers.filter((a) => a.error === null).map((a) => a.account),
    complete: answers.every((a) => a.error === null),
  };
}
