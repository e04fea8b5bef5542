// Keeps each user's .ics feed file in step with the model. Changes are coalesced for a moment so
// a burst of tool calls rewrites the file once; rendering reuses each unchanged item's cached
// text, and the file is written off the event loop. `flush` writes what is due (on shutdown);
// `publishAll` rewrites every feed at start-up, so a crash never leaves a feed stale.
import { createHash } from 'node:crypto';
import { feedPath, writeFeed } from '../../providers/icsfeed/file.js';
import { RenderCache, scopeOf, writeCalendar } from '../ics/export.js';
import { log } from '../log.js';
import type { Item } from '../model/types.js';
import type { Store } from '../store/store.js';

export const FEED_DELAY_MS = 50;
/**
 * Rendering a feed blocks the event loop; under a stream of changes, feeds are rewritten at most
 * this many render-times apart, so a server spends no more than 1 % of its time on them (a feed
 * of a few hundred events still follows within FEED_DELAY_MS; one of 10,000 within about a second).
 */
const MAX_SHARE = 100;
/** More changed items than this are read with one query for all of the user's items. */
const MANY_STALE = 20;

const stampOf = (refs: Array<{ id: string; version: number; updatedAt: string }>) =>
  createHash('sha256').update(refs.map((r) => `${r.id}:${r.version}:${r.updatedAt}`).join('\n')).digest('base64url');

export class FeedPublisher {
  private due = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private renderMs = 0;
  private lastFlush = 0;
  private readonly caches = new Map<string, RenderCache>();
  /** Per user, what the feed file written last was made from (its items' ids and versions). */
  private readonly written = new Map<string, string>();

  constructor(
    private readonly store: Store,
    private readonly dataDir: string,
    private readonly delayMs = FEED_DELAY_MS,
  ) {}

  path(userId: string): string {
    return feedPath(this.dataDir, userId);
  }

  schedule(userId: string): void {
    this.due.add(userId);
    if (!this.timer) {
      const wait = Math.max(this.delayMs, this.lastFlush + this.renderMs * MAX_SHARE - performance.now());
      this.timer = setTimeout(() => void this.flush(), wait);
      this.timer.unref();
    }
  }

  /**
   * Makes the user's feed file current before it is served: rewritten when the model has changed
   * since this process last wrote it — by another process on the same store (a replica on
   * PostgreSQL, a CLI command), which never tells this one. One cheap query when nothing changed.
   */
  async current(userId: string): Promise<void> {
    if (this.written.get(userId) === stampOf(await this.store.userItemRefs(userId))) return;
    this.due.add(userId);
    await this.flush();
  }

  /** Writes every due feed; resolves when they, and any write already under way, are on disk. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.lastFlush = performance.now();
    const users = [...this.due];
    this.due.clear();
    // Writes are chained so two rewrites of one feed never race each other's rename.
    this.writing = this.writing.then(() => Promise.all(users.map((u) => this.publish(u)))).then(() => undefined);
    return this.writing;
  }

  private async publish(userId: string): Promise<void> {
    try {
      const parts: string[] = [];
      let cache = this.caches.get(userId);
      if (!cache) this.caches.set(userId, (cache = new RenderCache()));
      const scope = scopeOf(await this.store.userItemZones(userId));
      // Unchanged items are found by reference in the render cache; only changed ones are read in
      // full (all of them at once when many are: the first write, a shifted trip).
      const refs = await this.store.userItemRefs(userId);
      const stale = cache.stale(refs);
      const loaded = new Map<string, Item>();
      if (stale.length > MANY_STALE) for (const item of await this.store.userItems(userId)) loaded.set(item.id, item);
      else for (const id of stale) { const item = await this.store.getItem(id); if (item) loaded.set(id, item); }
      const started = performance.now();
      // An item deleted between the two reads (by another request or process) is left out: its
      // deletion asks for the next rewrite anyway.
      const missing = new Set(stale.filter((id) => !loaded.has(id)));
      const present = missing.size === 0 ? refs : refs.filter((r) => !missing.has(r.id));
      writeCalendar(`Trips (${userId})`, scope, present, (text) => parts.push(text), { cache, load: (id) => loaded.get(id) });
      this.renderMs = performance.now() - started;
      await writeFeed(this.dataDir, userId, parts.join(''));
      this.written.set(userId, stampOf(present));
    } catch (error) {
      // A feed that cannot be written must not fail the edit that caused it; the next change or start retries.
      log.error('feed write failed', { user: userId, error: (error as Error).message });
    }
  }

  async publishAll(): Promise<void> {
    for (const user of await this.store.listUsers()) this.due.add(user.id);
    return this.flush();
  }
}
