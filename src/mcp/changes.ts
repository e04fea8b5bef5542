// Which MCP resources changed after an edit. The trips service says which user changed; this
// compares each trip of that user (and no one else's) with what it was, so
// a client watching `tripcal://trips/<id>/itinerary` hears about that trip and nothing else, and
// a trip added or removed changes the resource list.
import type { App } from '../app.js';

export interface ResourceChanges {
  /** URIs whose contents changed. */
  updated: string[];
  /** Whether the list of resources changed (a trip came or went, or was renamed). */
  listChanged: boolean;
}

export type ChangeSubscriber = (changes: ResourceChanges) => void;

/** The three resources of one trip, as server.ts registers them. */
export function tripResourceUris(tripId: string): string[] {
  return [`tripcal://trips/${tripId}`, `tripcal://trips/${tripId}/itinerary`, `tripcal://trips/${tripId}.ics`];
}

/** Edits come in bursts (a trip of 20 items, a shift): one notice per burst. */
const SETTLE_MS = 50;

/** What a trip's resources were when last looked at: a change of `stamp` changes them. */
interface Seen {
  stamp: string;
  title: string;
}

export class ResourceWatch {
  private readonly subscribers = new Set<ChangeSubscriber>();
  /** Per user, per trip: what it was when last looked at. */
  private seen: Map<string, Map<string, Seen>> | undefined;
  /** The first look, taken when the first subscriber comes. */
  private baseline: Promise<void> | undefined;
  /** Users changed since the last look: a burst rereads only theirs. */
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly app: App) {
    app.trips.onChange((userId) => this.soon(userId));
  }

  /** Calls `subscriber` after each burst of edits that changed a resource; returns the unsubscribe. */
  subscribe(subscriber: ChangeSubscriber): () => void {
    this.baseline ??= (async () => {
      const seen = new Map<string, Map<string, Seen>>();
      for (const user of await this.app.trips.userIds()) seen.set(user, await this.snapshot(user));
      this.seen ??= seen;
    })().catch(() => undefined);
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  private soon(userId: string): void {
    if (this.subscribers.size === 0) return;
    this.dirty.add(userId);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.check();
    }, SETTLE_MS);
    this.timer.unref();
  }

  private async snapshot(user: string): Promise<Map<string, Seen>> {
    const trips = new Map<string, Seen>();
    try {
      for (const { trip, items } of await this.app.trips.listTrips(user)) {
        const stamp = [trip.version, trip.updatedAt, trip.timezone, trip.startDate, trip.endDate, ...items.map((i) => `${i.id}:${i.version}`)].join('|');
        trips.set(trip.id, { stamp, title: trip.title });
      }
    } catch {
      // The database closing under us: nothing to tell.
    }
    return trips;
  }

  private async check(): Promise<void> {
    await this.baseline;
    const seen = (this.seen ??= new Map());
    const updated: string[] = [];
    let listChanged = false;
    // Taken now: users changed while this looks are the next burst's.
    const users = [...this.dirty];
    this.dirty.clear();
    for (const user of users) {
      const before = seen.get(user) ?? new Map<string, Seen>();
      const now = await this.snapshot(user);
      seen.set(user, now);
      if (before.size !== now.size) listChanged = true;
      for (const [id, trip] of now) {
        const was = before.get(id);
        if (!was || was.title !== trip.title) listChanged = true;
        // A trip made within the burst may already be watched (its id came back from create_trip).
        if (!was || was.stamp !== trip.stamp) updated.push(...tripResourceUris(id));
      }
      for (const id of before.keys()) if (!now.has(id)) updated.push(...tripResourceUris(id));
    }
    if (updated.length === 0 && !listChanged) return;
    for (const subscriber of this.subscribers) subscriber({ updated, listChanged });
  }

  close(): void {
    clearTimeout(this.timer);
    this.subscribers.clear();
  }
}
