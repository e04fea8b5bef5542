// Trips -> RFC 5545 calendars (exports and feeds), streamed item by item. A feed keeps each
// item's VEVENT text (ics/vevent.ts) in its RenderCache with the version it was rendered at, so
// rewriting a feed after one change re-renders one item. An edited item's older text is replaced,
// and a deleted item's is dropped by the next rewrite: a long-running daemon's memory follows the
// number of live items, not the number of edits or deletions.
import { desiredEventsForItem } from '../events/desired.js';
import type { Item } from '../model/types.js';
import { CALENDAR_END, calendarHead, renderVEvent, timedZones, type CalendarScope } from '../../core/ical/vevent.js';

export type { CalendarScope };

export interface CalendarInput {
  name: string;
  /** Any iterable: a streaming query keeps only the rendered text of each item in memory. */
  items: Iterable<Item>;
}

interface RenderedEvent {
  text: string;
}

/** One feed's rendered items. A full rewrite keeps the entries of the items it wrote, and only those. */
export class RenderCache {
  private entries = new Map<string, { stamp: string; events: RenderedEvent[] }>();
  private seen = new Set<string>();

  get size(): number {
    return this.entries.size;
  }

  get(id: string, stamp: string): RenderedEvent[] | undefined {
    this.seen.add(id);
    const cached = this.entries.get(id);
    return cached?.stamp === stamp ? cached.events : undefined;
  }

  /** The items of `refs` whose text is not cached as they are now: what a write must load first. */
  stale(refs: Iterable<ItemRef>): string[] {
    return [...refs].filter((r) => this.entries.get(r.id)?.stamp !== stampOf(r)).map((r) => r.id);
  }

  set(id: string, stamp: string, events: RenderedEvent[]): void {
    this.entries.set(id, { stamp, events });
  }

  /** After a whole calendar was written: forgets items it no longer has (deleted, moved to another user). */
  prune(): void {
    for (const id of this.entries.keys()) if (!this.seen.has(id)) this.entries.delete(id);
    this.seen.clear();
  }
}

/** Enough to find an item's rendered events in the cache; `load` fetches the item on a miss. */
export interface ItemRef {
  id: string;
  version: number;
  updatedAt: string;
}

function isItem(entry: Item | ItemRef): entry is Item {
  return 'kind' in entry;
}

const stampOf = (entry: ItemRef) => `${entry.version}|${entry.updatedAt}`;

function renderedEvents(entry: Item | ItemRef, options: WriteOptions): RenderedEvent[] {
  const stamp = stampOf(entry);
  const cached = options.cache?.get(entry.id, stamp);
  if (cached) return cached;
  const item = isItem(entry) ? entry : options.load?.(entry.id);
  if (!item) throw new Error(`item ${entry.id} is neither rendered nor loadable`);
  const events = desiredEventsForItem(item).map((event) => ({ text: renderVEvent({ ...event, sequence: item.version }, item.updatedAt) }));
  options.cache?.set(entry.id, stamp, events);
  return events;
}

export function scopeOf(items: Iterable<Pick<Item, 'startTz' | 'endTz' | 'allDay' | 'startUtc' | 'endUtc'>>): CalendarScope {
  const zones = new Set<string>();
  let firstYear = Infinity;
  let lastYear = -Infinity;
  for (const item of items) {
    for (const zone of timedZones(item.startTz, item.endTz, item.allDay)) zones.add(zone);
    firstYear = Math.min(firstYear, Number(item.startUtc.slice(0, 4)));
    lastYear = Math.max(lastYear, Number(item.endUtc.slice(0, 4)));
  }
  return { zones, firstYear, lastYear };
}

export interface WriteOptions {
  /** Keep each item's rendered text for the next call (feeds, rewritten after every change); pruned to the items written. */
  cache?: RenderCache;
  /** Loads an item given only by reference whose text is not cached. */
  load?: (id: string) => Item | undefined;
}

/**
 * Streams a calendar to `write` one piece at a time: the header, the VTIMEZONEs of `scope`, then
 * each item's events as it comes from `items`. Returns the number of events written.
 */
export function writeCalendar(name: string, scope: CalendarScope, items: Iterable<Item | ItemRef>, write: (text: string) => void, options: WriteOptions = {}): number {
  write(calendarHead(name, scope));
  let count = 0;
  for (const item of items) {
    for (const event of renderedEvents(item, options)) {
      write(`${event.text}\r\n`);
      count += 1;
    }
  }
  write(CALENDAR_END);
  options.cache?.prune();
  return count;
}

/** The whole calendar as one string, with the number of events in it. */
export function renderCalendar(input: CalendarInput): { text: string; events: number } {
  const items = [...input.items];
  const parts: string[] = [];
  const events = writeCalendar(input.name, scopeOf(items), items, (text) => parts.push(text));
  return { text: parts.join(''), events };
}
