// Free/busy from Graph. getSchedule (reference §1a) answers with bare intervals, so it cannot
// tell our own trip events from the user's: matching them by interval failed for all-day items
// (getSchedule gives their real instants) and for events another process had just synced. The
// calendar view (`/me/calendar/calendarView`, recurrences expanded) is read instead, with our
// extended property expanded, and exactly the events that carry our key are left out.
import type { BusyInterval } from '../types.js';
import { keyOf, occupiedSpan, type GraphEvent } from './events.js';

/** Windows of at most 41 days per request: bounded pages, as getSchedule's limit once forced. */
const SPAN_MS = 41 * 86_400_000;

/** [from, to) cut into windows of at most 41 days. */
export function viewSpans(from: string, to: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  for (let start = Date.parse(from); start < Date.parse(to); start += SPAN_MS) spans.push([start, Math.min(Date.parse(to), start + SPAN_MS)]);
  return spans;
}

/** Busy intervals from events read with our property expanded: not ours, not free, not cancelled, inside [from, to); `calendar` names where they came from (the mailbox). */
export function busyFromView(events: GraphEvent[], from: number, to: number, calendar: string): BusyInterval[] {
  return events.filter((e) => !keyOf(e) && e.showAs !== 'free' && !e.isCancelled)
    .map((e) => ({ ...occupiedSpan(e), calendar }))
    .filter((b) => Date.parse(b.start) < to && Date.parse(b.end) > from);
}
