// How trips and items are shown to clients: plain JSON with every time as instant + local time +
// zone. The MCP output schemas (mcp/tools/shapes.ts) describe exactly these shapes.
import { desiredEventsForItem, itemSummary } from '../events/desired.js';
import { humanTime, showTime, type ShownTime } from '../model/time.js';
import type { Item, Trip } from '../model/types.js';
import { tripDates } from './span.js';

export interface ItemView {
  id: string;
  trip_id: string;
  kind: Item['kind'];
  summary: string;
  start: ShownTime;
  end: ShownTime;
  all_day: boolean;
  remind_before: number;
  version: number;
  details: Record<string, unknown>;
  events: Array<{ key: string; uid: string; summary: string; start: ShownTime; end: ShownTime }>;
}

export interface TripView {
  id: string;
  title: string;
  timezone: string;
  start_date: string | null;
  end_date: string | null;
  notes: string | null;
  version: number;
  item_count: number;
}

export function itemView(item: Item): ItemView {
  return {
    id: item.id,
    trip_id: item.tripId,
    kind: item.kind,
    summary: itemSummary(item),
    start: showTime(item.startUtc, item.startTz),
    end: showTime(item.endUtc, item.endTz),
    all_day: item.allDay,
    remind_before: item.remindBeforeHours,
    version: item.version,
    details: { ...item.details },
    events: desiredEventsForItem(item).map((e) => ({
      key: e.key,
      uid: e.uid,
      summary: e.summary,
      start: showTime(e.start.utc, e.start.zone),
      end: showTime(e.end.utc, e.end.zone),
    })),
  };
}

export function tripView(trip: Trip, items: readonly Item[], zone: string): TripView {
  const dates = tripDates(trip, items);
  return {
    id: trip.id,
    title: trip.title,
    timezone: zone,
    start_date: dates.start,
    end_date: dates.end,
    notes: trip.notes,
    version: trip.version,
    item_count: items.length,
  };
}

/** An item as messages name it: `flight item_…` (never its title). */
export const itemRef = (item: Item): string => `${item.kind} ${item.id}`;

/**
 * One line for messages: `flight item_…, Sun 15 Jun 2025 01:00 PDT → Sun 15 Jun 2025 12:30 EDT`. Kind, id and
 * times only: a title may come from an imported file, and messages never quote outside text (see
 * mcp/shapes.ts, untrusted); the item itself is in the result's structured fields.
 */
export function itemLine(item: Item): string {
  if (item.allDay) {
    const { start, end } = tripDates({ startDate: null, endDate: null }, [item]);
    return `${itemRef(item)}, all day ${start === end ? start : `${start} to ${end}`}`;
  }
  return `${itemRef(item)}, ${humanTime(item.startUtc, item.startTz)} → ${humanTime(item.endUtc, item.endTz)}`;
}
