// Trips: every edit of the model goes through here, each as one transaction that bumps versions,
// keeps trip spans right, writes the journal, and then tells listeners (feeds, sync) what changed.
import type { Config } from '../config/schema.js';
import { ConflictError, InputError, NotFoundError } from '../errors.js';
import { newItemId, newTripId } from '../model/ids.js';
import { confirmationOf, needsContextZone, resolveTimes } from '../model/resolve.js';
import { cleanDetails } from '../model/schemas.js';
import { localDate, parseDate, requireZone } from '../model/time.js';
import type { Item, ItemDetails, ItemKind, ItemTimes, Trip, User } from '../model/types.js';
import { readIcs, type Skipped } from '../ics/import.js';
import type { Store } from '../store/store.js';
import { autoTitle, mergeChanges, normalizeItem, overlaps, sameAs } from './items.js';
import { EMPTY_EXTENT, extentOf, tripSpan, tripZone } from './span.js';
import { shiftedChanges } from './shift.js';
import { DateTime, type Duration } from 'luxon';

const DAY_MS = 86_400_000;
/** Widest gap between two zones' clocks, so a candidate trip is never missed before its zone is known. */
const ZONE_SLACK_MS = 28 * 3_600_000;

export const DEFAULT_REMIND_BEFORE_HOURS: Record<ItemKind, number> = { flight: 24, stay: 24, activity: 1 };

export interface AddItemOptions {
  tripId?: string;
  remindBeforeHours?: number;
  sourceUid?: string;
  /** Add it even when the user has the same flight (number and date) or booking (confirmation code) already. */
  allowDuplicate?: boolean;
  /** Field path prefix for error messages, e.g. `flight_details` or `flights[2]`. */
  path: string;
}

export interface AddItemResult {
  item: Item;
  trip: Trip;
  tripCreated: boolean;
  /** Nothing was added: `item` is the one the user had already. */
  duplicate?: boolean;
}

/** An item as it is stored: text cleaned, flight numbers and airports in one spelling. */
const normalizedItem = (raw: ItemDetails) => normalizeItem({ kind: raw.kind, details: cleanDetails(raw.details) } as ItemDetails);

export interface TripInput {
  title: string;
  start_date?: string;
  end_date?: string;
  timezone?: string;
  notes?: string;
}

export interface ItineraryInput extends TripInput {
  flights: ItemDetails['details'][];
  accommodations: ItemDetails['details'][];
  activities: ItemDetails['details'][];
  remindBeforeHours?: number;
}

export interface ItemChanges {
  changes?: Record<string, string | null>;
  remindBeforeHours?: number;
  tripId?: string;
  expectedVersion?: number;
}

export interface IcsImportResult {
  created: Item[];
  updated: Item[];
  unchanged: Item[];
  skipped: Skipped[];
}

export type ChangeListener = (userId: string) => void;

export class Trips {
  private listeners: ChangeListener[] = [];

  constructor(
    readonly store: Store,
    private readonly config: Config,
    private readonly now: () => Date = () => new Date(),
  ) {}

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  private stamp(): string {
    return this.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  private changed(userId: string): void {
    for (const listener of this.listeners) listener(userId);
  }

  private async write<T>(user: User, fn: () => Promise<T>): Promise<T> {
    const result = await this.store.transaction(async () => {
      await this.persistUser(user);
      return fn();
    });
    this.changed(user.id);
    return result;
  }

  // users

  userId(requested?: string): string {
    return requested ?? this.config.default_user;
  }

  /**
   * The user as configured. Reads never create anything; the first write for a new user stores it
   * (inside that write's transaction, so a refused write leaves no trace).
   */
  async user(requested?: string): Promise<User> {
    const id = this.userId(requested);
    const configured = this.config.users[id]?.timezone;
    const existing = await this.store.getUser(id);
    if (existing) return configured ? { ...existing, timezone: configured } : existing;
    return { id, timezone: configured ?? 'UTC', createdAt: this.stamp() };
  }

  private async persistUser(user: User): Promise<void> {
    const stored = await this.store.getUser(user.id);
    if (!stored) await this.store.insertUser(user);
    else if (stored.timezone !== user.timezone) await this.store.setUserTimezone(user.id, user.timezone);
  }

  // trips

  /** A live trip of this user, or NotFound naming `field` (other users' trips are not found either). */
  async ownedTrip(userId: string, tripId: string, field = 'trip_id'): Promise<Trip> {
    const trip = await this.store.getTrip(tripId);
    if (!trip || trip.userId !== userId) throw new NotFoundError(field, `no trip "${tripId}" for user "${userId}"`);
    return trip;
  }

  async ownedItem(userId: string, itemId: string, field = 'item_id'): Promise<Item> {
    const item = await this.store.getItem(itemId);
    if (!item || item.userId !== userId) throw new NotFoundError(field, `no item "${itemId}" for user "${userId}"`);
    return item;
  }

  async getTrip(requestedUser: string | undefined, tripId: string): Promise<{ trip: Trip; items: Item[]; zone: string }> {
    const user = await this.user(requestedUser);
    const trip = await this.ownedTrip(user.id, tripId);
    const items = await this.store.listItems(trip.id);
    return { trip, items, zone: tripZone(trip, extentOf(items), user.timezone) };
  }

  /** Every user the store knows, and the default one. */
  async userIds(): Promise<string[]> {
    return [...new Set([this.userId(), ...(await this.store.listUsers()).map((u) => u.id)])];
  }

  async listTrips(requestedUser?: string): Promise<Array<{ trip: Trip; items: Item[]; zone: string }>> {
    const user = await this.user(requestedUser);
    const listed = [];
    for (const trip of await this.store.listTrips(user.id)) {
      const items = await this.store.listItems(trip.id);
      listed.push({ trip, items, zone: tripZone(trip, extentOf(items), user.timezone) });
    }
    return listed;
  }

  private checkTripInput(input: TripInput): TripInput {
    const timezone = input.timezone ? requireZone(input.timezone, 'timezone') : undefined;
    const start = input.start_date ? parseDate(input.start_date, 'start_date') : undefined;
    const end = input.end_date ? parseDate(input.end_date, 'end_date') : undefined;
    if (start && end && end < start) throw new InputError('end_date', `${end} is before start_date ${start}`);
    return { ...cleanDetails(input), timezone, start_date: start, end_date: end };
  }

  private async insertTrip(user: User, input: TripInput): Promise<Trip> {
    const at = this.stamp();
    const trip: Trip = {
      id: newTripId(), userId: user.id, title: input.title, timezone: input.timezone ?? null, notes: input.notes ?? null,
      startDate: input.start_date ?? null, endDate: input.end_date ?? null, startUtc: null, endUtc: null,
      version: 1, createdAt: at, updatedAt: at, deletedAt: null,
    };
    Object.assign(trip, tripSpan(trip, EMPTY_EXTENT, trip.timezone ?? user.timezone));
    await this.store.insertTrip(trip);
    await this.store.appendJournal({ userId: user.id, tripId: trip.id, action: 'trip.create' }, at);
    return trip;
  }

  async createTrip(requestedUser: string | undefined, input: TripInput): Promise<Trip> {
    const user = await this.user(requestedUser);
    const checked = this.checkTripInput(input);
    return this.write(user, () => this.insertTrip(user, checked));
  }

  /** Recomputes a trip's span after its items changed. */
  private async refreshSpan(trip: Trip, userZone: string): Promise<Trip> {
    const extent = await this.store.tripExtent(trip.id);
    const span = tripSpan(trip, extent, tripZone(trip, extent, userZone));
    const updated = { ...trip, ...span, updatedAt: this.stamp() };
    await this.store.updateTrip(updated);
    return { ...updated, version: trip.version + 1 };
  }

  async deleteTrip(requestedUser: string | undefined, tripId: string): Promise<{ trip: Trip; itemCount: number }> {
    const user = await this.user(requestedUser);
    return this.write(user, async () => {
      const trip = await this.ownedTrip(user.id, tripId);
      const itemCount = (await this.store.listItems(trip.id)).length;
      const at = this.stamp();
      await this.store.softDeleteTrip(trip.id, at);
      await this.store.appendJournal({ userId: user.id, tripId: trip.id, action: 'trip.delete', detail: { items: itemCount } }, at);
      return { trip, itemCount };
    });
  }

  // items

  /**
   * Finds the trip an item without a trip_id joins: one of the user's trips whose span, widened by
   * a day each side, overlaps the item (read in that trip's zone). Null when none does.
   */
  private async tripFor(user: User, item: ItemDetails, path: string): Promise<{ trip: Trip | null; times: ItemTimes }> {
    const first = resolveTimes(item, user.timezone, path);
    const candidates = await this.store.tripsOverlapping(user.id, first.startUtc, first.endUtc, DAY_MS + ZONE_SLACK_MS);
    for (const trip of candidates) {
      const times = needsContextZone(item)
        ? resolveTimes(item, tripZone(trip, await this.store.tripExtent(trip.id), user.timezone), path)
        : first;
      if (overlaps(trip, times, DAY_MS)) return { trip, times };
    }
    return { trip: null, times: first };
  }

  private checkRemind(hours: number | undefined, field: string): void {
    if (hours !== undefined && (!Number.isFinite(hours) || hours < 0 || hours > 24 * 28)) {
      throw new InputError(field, `${hours} is not between 0 and ${24 * 28} hours`);
    }
  }

  private async insertItem(user: User, raw: ItemDetails, options: AddItemOptions): Promise<AddItemResult> {
    const item = normalizedItem(raw);
    this.checkRemind(options.remindBeforeHours, 'remind_before');
    let trip: Trip | null;
    let times: ItemTimes;
    let tripCreated = false;
    if (options.tripId) {
      trip = await this.ownedTrip(user.id, options.tripId);
      times = resolveTimes(item, tripZone(trip, await this.store.tripExtent(trip.id), user.timezone), options.path);
    } else {
      ({ trip, times } = await this.tripFor(user, item, options.path));
    }
    if (!options.allowDuplicate) {
      for (const existing of await this.store.duplicateCandidates(user.id, item.kind, times.startUtc, 3 * DAY_MS, confirmationOf(item))) {
        if (sameAs(existing, item, times)) return { item: existing, trip: (await this.store.getTrip(existing.tripId))!, tripCreated: false, duplicate: true };
      }
    }
    if (!trip) {
      trip = await this.insertTrip(user, { title: autoTitle(item) });
      tripCreated = true;
    }
    const at = this.stamp();
    const id = newItemId();
    await this.store.insertItem({
      ...item, ...times, id, tripId: trip.id, userId: user.id,
      remindBeforeHours: options.remindBeforeHours ?? DEFAULT_REMIND_BEFORE_HOURS[item.kind],
      confirmationCode: confirmationOf(item), sourceUid: options.sourceUid ?? null,
    }, at);
    await this.store.appendJournal({ userId: user.id, tripId: trip.id, itemId: id, action: 'item.add', detail: { kind: item.kind } }, at);
    trip = await this.refreshSpan(trip, user.timezone);
    return { item: (await this.store.getItem(id))!, trip, tripCreated };
  }

  async addItem(requestedUser: string | undefined, item: ItemDetails, options: AddItemOptions): Promise<AddItemResult> {
    const user = await this.user(requestedUser);
    return this.write(user, () => this.insertItem(user, item, options));
  }

  /** A whole trip in one transaction: all of it lands, or none of it does. */
  async createItinerary(requestedUser: string | undefined, input: ItineraryInput): Promise<{ trip: Trip; items: Item[] }> {
    const user = await this.user(requestedUser);
    const checked = this.checkTripInput(input);
    return this.write(user, async () => {
      let trip = await this.insertTrip(user, checked);
      const added: Item[] = [];
      const add = async (kind: ItemKind, list: ItemDetails['details'][], name: string) => {
        for (const [i, details] of list.entries()) {
          added.push((await this.insertItem(user, { kind, details } as ItemDetails, {
            tripId: trip.id, remindBeforeHours: input.remindBeforeHours, path: `${name}[${i}]`, allowDuplicate: true,
          })).item);
        }
      };
      // Flights first: the trip's zone (for stays and activities given without one) is its destination's.
      await add('flight', input.flights, 'flights');
      await add('stay', input.accommodations, 'accommodations');
      await add('activity', input.activities, 'activities');
      trip = (await this.store.getTrip(trip.id))!;
      const items: Item[] = [];
      for (const item of added) items.push((await this.store.getItem(item.id))!);
      return { trip, items };
    });
  }

  async updateItem(requestedUser: string | undefined, itemId: string, update: ItemChanges): Promise<{ item: Item; trip: Trip }> {
    const user = await this.user(requestedUser);
    this.checkRemind(update.remindBeforeHours, 'remind_before');
    return this.write(user, async () => {
      const old = await this.ownedItem(user.id, itemId);
      if (update.expectedVersion !== undefined && update.expectedVersion !== old.version) {
        throw new ConflictError('expected_version', `item is at version ${old.version}, not ${update.expectedVersion}; read it again`);
      }
      const details = mergeChanges(old, update.changes ?? {});
      return this.rewriteItem(user, old, details, { tripId: update.tripId, remindBeforeHours: update.remindBeforeHours });
    });
  }

  /** Replaces an item's details (re-resolving its times), possibly moving it to another trip. */
  private async rewriteItem(user: User, old: Item, raw: ItemDetails, options: { tripId?: string; remindBeforeHours?: number }): Promise<{ item: Item; trip: Trip }> {
    const details = normalizedItem(raw);
    const oldTrip = await this.ownedTrip(user.id, old.tripId);
    const trip = options.tripId ? await this.ownedTrip(user.id, options.tripId) : oldTrip;
    // A stay or activity given without a zone keeps the one it was placed in when it was made:
    // adding a flight to its trip, moving it, or changing its code never re-reads its times elsewhere.
    const keptZone = needsContextZone(details) && needsContextZone(old) ? old.startTz : undefined;
    const times = resolveTimes(details, keptZone ?? tripZone(trip, await this.store.tripExtent(trip.id, old.id), user.timezone), 'changes');
    const at = this.stamp();
    const next = {
      ...old, ...details, ...times, tripId: trip.id,
      remindBeforeHours: options.remindBeforeHours ?? old.remindBeforeHours,
      confirmationCode: confirmationOf(details),
    } as Item;
    await this.store.updateItem(next, at);
    await this.store.appendJournal({ userId: user.id, tripId: trip.id, itemId: old.id, action: 'item.update', detail: { version: old.version + 1 } }, at);
    if (trip.id !== oldTrip.id) await this.refreshSpan(oldTrip, user.timezone);
    const refreshed = await this.refreshSpan((await this.store.getTrip(trip.id))!, user.timezone);
    return { item: (await this.store.getItem(old.id))!, trip: refreshed };
  }

  /** Moves every item of a trip, and the dates it was given, by `shift` in local time (shift.ts); all or nothing. */
  async shiftTrip(requestedUser: string | undefined, tripId: string, shift: Duration): Promise<{ trip: Trip; items: Item[] }> {
    const user = await this.user(requestedUser);
    return this.write(user, async () => {
      const trip = await this.ownedTrip(user.id, tripId);
      const date = (d: string | null) => d && DateTime.fromISO(d, { zone: 'utc' }).plus({ days: Math.round(shift.as('days')) }).toISODate();
      if (trip.startDate || trip.endDate) await this.store.updateTrip({ ...trip, startDate: date(trip.startDate), endDate: date(trip.endDate), updatedAt: this.stamp() });
      const items: Item[] = [];
      for (const old of await this.store.listItems(trip.id)) {
        items.push((await this.rewriteItem(user, old, mergeChanges(old, shiftedChanges(old, shift, 'shift')), {})).item);
      }
      return { trip: (await this.store.getTrip(trip.id))!, items };
    });
  }

  /**
   * Imports the events of an .ics file as activities, in one transaction. An event already
   * imported (same UID, or same UID and occurrence) is updated if it changed, never duplicated.
   */
  async importIcs(requestedUser: string | undefined, text: string, tripId?: string): Promise<IcsImportResult> {
    const user = await this.user(requestedUser);
    let range: { from: Date; to: Date } | undefined;
    if (tripId) {
      const trip = await this.ownedTrip(user.id, tripId);
      // The dates the user gave the trip, else its current span: recurrences fill the trip, not beyond.
      const extent = await this.store.tripExtent(trip.id);
      const span = tripSpan({ startDate: trip.startDate, endDate: trip.endDate }, trip.startDate || trip.endDate ? EMPTY_EXTENT : extent,
        tripZone(trip, extent, user.timezone));
      if (span.startUtc && span.endUtc) range = { from: new Date(span.startUtc), to: new Date(span.endUtc) };
    }
    const { events, skipped } = await readIcs(text, range);
    const result = await this.importItems(user.id, events.map((e) => ({ item: { kind: 'activity', details: e.details }, sourceUid: e.sourceUid })), tripId, true);
    return { ...result, skipped: [...skipped, ...result.failed.map((f) => ({ uid: events[f.index]!.sourceUid, reason: f.reason }))] };
  }

  /**
   * Items read from a file, each keyed by its source: new ones are added, changed ones updated.
   * `allowDuplicate: false` also takes an item the user added by hand for the same one.
   */
  async importItems(requestedUser: string | undefined, entries: Array<{ item: ItemDetails; sourceUid: string }>, tripId: string | undefined, allowDuplicate: boolean) {
    const user = await this.user(requestedUser);
    if (tripId) await this.ownedTrip(user.id, tripId);
    return this.write(user, async () => {
      const result = { created: [] as Item[], updated: [] as Item[], unchanged: [] as Item[], failed: [] as Array<{ index: number; reason: string }> };
      // One booking is one journey: the parts of a reservation number imported together (an
      // outbound and a return flight days apart, the hotel between) share the trip the first went to.
      const bookingTrips = new Map<string, string>();
      const bookingOf = (item: ItemDetails) => (item.details as { confirmation_code?: string }).confirmation_code?.trim().toUpperCase() || undefined;
      for (const [i, { item, sourceUid }] of entries.entries()) {
        try {
          // Each entry its own savepoint: one refused leaves nothing half-written, the others land.
          await this.store.transaction(async () => {
            const existing = await this.store.findItemBySource(user.id, sourceUid);
            const booking = bookingOf(item);
            if (existing && booking) bookingTrips.set(booking, existing.tripId);
            if (!existing) {
              const into = tripId ?? (booking ? bookingTrips.get(booking) : undefined);
              const added = await this.insertItem(user, item, { tripId: into, sourceUid, allowDuplicate, path: `events[${i}]` });
              if (booking) bookingTrips.set(booking, added.item.tripId);
              (added.duplicate ? result.unchanged : result.created).push(added.item);
            } else if (JSON.stringify(existing.details) === JSON.stringify(normalizedItem(item).details)) {
              result.unchanged.push(existing);
            } else {
              result.updated.push((await this.rewriteItem(user, existing, item, {})).item);
            }
          });
        } catch (error) {
          if (!(error instanceof InputError)) throw error;
          result.failed.push({ index: i, reason: error.message });
        }
      }
      return result;
    });
  }

  async deleteItem(requestedUser: string | undefined, itemId: string, field = 'item_id'): Promise<{ item: Item; trip: Trip }> {
    const user = await this.user(requestedUser);
    return this.write(user, async () => {
      const item = await this.ownedItem(user.id, itemId, field);
      const at = this.stamp();
      await this.store.softDeleteItem(item.id, at);
      await this.store.appendJournal({ userId: user.id, tripId: item.tripId, itemId: item.id, action: 'item.delete' }, at);
      const trip = await this.refreshSpan(await this.ownedTrip(user.id, item.tripId), user.timezone);
      return { item, trip };
    });
  }
}
