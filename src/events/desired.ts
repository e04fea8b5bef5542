// Model -> desired calendar events. Pure. This is the one place that decides titles,
// descriptions, locations, reminders and time zones, for every provider and for .ics alike.
import type { EventContent, EventTime, Reminder } from '../../providers/types.js';
import { humanTime, utcIsoOf } from '../model/time.js';
import type { Item } from '../model/types.js';
import { contentHash } from './hash.js';

export type { EventTime, Reminder };

export interface DesiredEvent extends EventContent {
  /** `<item id>:<role>`: stable for the life of the item, the link between model and calendars. */
  key: string;
  /** The iCalendar UID, derived from the key. */
  uid: string;
  tripId: string;
  itemId: string;
  /** The item's version: an event the user deleted comes back only once the item is edited again. */
  itemVersion: number;
  role: 'flight' | 'check-in' | 'check-out' | 'activity';
  /** contentHash of what a calendar shows; a changed hash means the event must be rewritten. */
  hash: string;
}

const STAY_MARKER_MINUTES = 30;
/** A flight also gets a popup this long before departure when the main reminder is earlier. */
const FLIGHT_POPUP_MINUTES = 120;

export function uidForKey(key: string): string {
  return `${key.replace(/:/g, '-')}@tripcal`;
}

/** The title of an item as a whole, as tool outputs show it. */
export function itemSummary(item: Item): string {
  switch (item.kind) {
    case 'flight':
      return `Flight: ${item.details.airline} ${item.details.flight_number}`;
    case 'stay':
      return `Stay: ${item.details.name}`;
    case 'activity':
      return item.details.name;
  }
}

function remindersFor(item: Item, role: DesiredEvent['role']): Reminder[] {
  const minutes = Math.round(item.remindBeforeHours * 60);
  if (minutes <= 0 || role === 'check-out') return [];
  if (role === 'flight' && minutes > FLIGHT_POPUP_MINUTES) {
    return [
      { method: 'email', minutesBefore: minutes },
      { method: 'popup', minutesBefore: FLIGHT_POPUP_MINUTES },
    ];
  }
  return [{ method: 'popup', minutesBefore: minutes }];
}

function lines(...entries: Array<[string, string | undefined | null]>): string {
  return entries
    .filter((e): e is [string, string] => Boolean(e[1]))
    .map(([label, value]) => (label ? `${label}: ${value}` : value))
    .join('\n');
}

function shifted(utc: string, minutes: number): string {
  return utcIsoOf(Date.parse(utc) + minutes * 60_000);
}

function finish(event: Omit<DesiredEvent, 'hash' | 'uid'>): DesiredEvent {
  return { ...event, uid: uidForKey(event.key), hash: contentHash(event) };
}

function base(item: Item, role: DesiredEvent['role']) {
  return { key: `${item.id}:${role}`, tripId: item.tripId, itemId: item.id, itemVersion: item.version, role, reminders: remindersFor(item, role) };
}

function flightEvent(item: Item & { kind: 'flight' }): DesiredEvent {
  const d = item.details;
  return finish({
    ...base(item, 'flight'),
    summary: itemSummary(item),
    description: lines(
      ['', `${d.airline} ${d.flight_number}`],
      ['', `${d.departure_airport} → ${d.arrival_airport}`],
      ['Departs', `${humanTime(item.startUtc, item.startTz)} (${item.startTz})`],
      ['Arrives', `${humanTime(item.endUtc, item.endTz)} (${item.endTz})`],
      ['Confirmation', d.confirmation_code],
      ['Seat', d.seat],
      ['Terminal', d.terminal],
      ['Notes', d.notes],
    ),
    location: `${d.departure_airport} → ${d.arrival_airport}`,
    allDay: false,
    start: { utc: item.startUtc, zone: item.startTz },
    end: { utc: item.endUtc, zone: item.endTz },
    transparent: false,
  });
}

function stayEvents(item: Item & { kind: 'stay' }): DesiredEvent[] {
  const d = item.details;
  const description = lines(
    ['', d.name],
    ['Address', d.address],
    ['Check-in', `${humanTime(item.startUtc, item.startTz)} (${item.startTz})`],
    ['Check-out', `${humanTime(item.endUtc, item.endTz)} (${item.endTz})`],
    ['Confirmation', d.confirmation_code],
    ['Phone', d.phone],
    ['Notes', d.notes],
  );
  const shared = { description, location: d.address || d.name, allDay: false, transparent: true };
  return [
    finish({
      ...base(item, 'check-in'),
      ...shared,
      summary: `Check-in: ${d.name}`,
      start: { utc: item.startUtc, zone: item.startTz },
      end: { utc: shifted(item.startUtc, STAY_MARKER_MINUTES), zone: item.startTz },
    }),
    finish({
      ...base(item, 'check-out'),
      ...shared,
      summary: `Check-out: ${d.name}`,
      start: { utc: shifted(item.endUtc, -STAY_MARKER_MINUTES), zone: item.endTz },
      end: { utc: item.endUtc, zone: item.endTz },
    }),
  ];
}

function activityEvent(item: Item & { kind: 'activity' }): DesiredEvent {
  const d = item.details;
  return finish({
    ...base(item, 'activity'),
    summary: d.name,
    description: lines(['', d.description], ['Confirmation', d.confirmation_code]),
    location: d.location || null,
    allDay: item.allDay,
    start: { utc: item.startUtc, zone: item.startTz },
    end: { utc: item.endUtc, zone: item.endTz },
    transparent: false,
  });
}

export function desiredEventsForItem(item: Item): DesiredEvent[] {
  switch (item.kind) {
    case 'flight':
      return [flightEvent(item)];
    case 'stay':
      return stayEvents(item);
    case 'activity':
      return [activityEvent(item)];
  }
}

export function desiredEvents(items: readonly Item[]): DesiredEvent[] {
  return items.flatMap(desiredEventsForItem);
}
