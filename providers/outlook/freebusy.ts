// Free/busy from Graph (reference §1a): getSchedule answers per mailbox with schedule items
// (status free | tentative | busy | oof | workingElsewhere), in UTC here, over spans under 42 days
// ("outlook-get-free-busy-schedule#limits-and-error-conditions"). Our own trip events show up
// in it like any other, so one schedule item per event of ours is left out.
import { InvalidError, type BusyInterval } from '../types.js';
import { contentOf, keyOf, type GraphEvent } from './events.js';

const SPAN_MS = 41 * 86_400_000;

export interface ScheduleAnswer {
  value?: Array<{
    scheduleId: string;
    error?: { message?: string; responseCode?: string };
    scheduleItems?: Array<{ status: string; start: { dateTime: string }; end: { dateTime: string } }>;
  }>;
}

export const utcTime = (ms: number) => ({ dateTime: new Date(ms).toISOString().slice(0, 19), timeZone: 'UTC' });
const utcOf = (dateTime: string) => `${dateTime.slice(0, 19)}Z`;

/** [from, to) cut into spans getSchedule accepts. */
export function scheduleSpans(from: string, to: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  for (let start = Date.parse(from); start < Date.parse(to); start += SPAN_MS) spans.push([start, Math.min(Date.parse(to), start + SPAN_MS)]);
  return spans;
}

/** How many of our events there are per exact interval. */
export function ownIntervals(ours: Iterable<{ start: string; end: string }>): Map<string, number> {
  const mine = new Map<string, number>();
  for (const o of ours) mine.set(`${o.start}|${o.end}`, (mine.get(`${o.start}|${o.end}`) ?? 0) + 1);
  return mine;
}

/** Busy intervals of a getSchedule answer, less one item per event of ours (`mine` is used up). */
export function busyFromSchedule(answer: ScheduleAnswer, mine: Map<string, number>): BusyInterval[] {
  const busy: BusyInterval[] = [];
  for (const schedule of answer.value ?? []) {
    if (schedule.error) throw new InvalidError(`free/busy failed for ${schedule.scheduleId} (${schedule.error.responseCode ?? schedule.error.message})`);
    for (const item of schedule.scheduleItems ?? []) {
      if (item.status === 'free') continue;
      const interval = { start: utcOf(item.start.dateTime), end: utcOf(item.end.dateTime) };
      const key = `${interval.start}|${interval.end}`;
      const left = mine.get(key) ?? 0;
      if (left > 0) mine.set(key, left - 1);
      else busy.push({ ...interval, calendar: schedule.scheduleId });
    }
  }
  return busy;
}

/** Busy intervals from events read with our property expanded: not ours, not free, not cancelled. */
export function busyFromView(events: GraphEvent[]): BusyInterval[] {
  return events.filter((e) => !keyOf(e) && e.showAs !== 'free' && !e.isCancelled).map((e) => {
    const c = contentOf(e);
    return { start: c.start.utc, end: c.end.utc, calendar: 'calendar' };
  });
}
