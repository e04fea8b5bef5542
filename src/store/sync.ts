// Accounts and links: the sync engine's status table (one row per account and desired event),
// in the same database as the model.
import type { EventContent } from '../../providers/types.js';
import type { Sql } from './sql.js';

export type LinkState = 'pending_create' | 'adopt' | 'synced' | 'conflict' | 'gone' | 'failed';

export interface Link {
  account: string;
  key: string;
  itemId: string;
  tripId: string;
  remoteId: string | null;
  remoteEtag: string | null;
  /** Hash of the remote content as last seen. */
  remoteHash: string | null;
  remoteLink: string | null;
  remoteContent: EventContent | null;
  /** Hash of the desired event we last wrote. */
  writtenHash: string | null;
  /** Hash of the remote content right after our last write: a remote hash that differs is drift. */
  writtenRemoteHash: string | null;
  /** The item version we last wrote. */
  writtenVersion: number | null;
  /** The remote content right after our last write: what the calendar app changed is the difference. */
  writtenContent: EventContent | null;
  /**
   * An update in flight: the desired hash being written and the remote hash it will read back as.
   * If the answer is lost, the next listing recognises our own write instead of calling it drift.
   */
  pendingHash: string | null;
  pendingRemoteHash: string | null;
  state: LinkState;
  lastError: string | null;
  updatedAt: string;
}

export interface AccountRow {
  name: string;
  userId: string;
  provider: string;
  cursor: string | null;
  status: string;
  statusDetail: string | null;
  lastSyncAt: string | null;
  lastSuccessAt: string | null;
}

interface LinkRow {
  account: string; key: string; item_id: string; trip_id: string; remote_id: string | null; remote_etag: string | null;
  remote_hash: string | null; remote_link: string | null; remote_content: string | null; written_hash: string | null;
  written_remote_hash: string | null; written_version: number | null;
  pending_hash: string | null; pending_remote_hash: string | null; written_content: string | null; state: LinkState; last_error: string | null; updated_at: string;
}

function toLink(r: LinkRow): Link {
  return {
    account: r.account, key: r.key, itemId: r.item_id, tripId: r.trip_id, remoteId: r.remote_id, remoteEtag: r.remote_etag,
    remoteHash: r.remote_hash, remoteLink: r.remote_link, remoteContent: r.remote_content ? JSON.parse(r.remote_content) : null,
    writtenHash: r.written_hash, writtenRemoteHash: r.written_remote_hash, writtenVersion: r.written_version,
    pendingHash: r.pending_hash, pendingRemoteHash: r.pending_remote_hash,
    writtenContent: r.written_content ? JSON.parse(r.written_content) : null, state: r.state, lastError: r.last_error, updatedAt: r.updated_at,
  };
}

export class SyncStore {
  constructor(private readonly sql: Sql) {}

  /** Makes sure an account row exists for a configured account (its user and provider may change). */
  async ensureAccount(name: string, userId: string, provider: string, at: string): Promise<void> {
    await this.sql.run(`INSERT INTO accounts (name, user_id, provider, created_at) VALUES (?, ?, ?, ?)
      ON CONFLICT(name) DO UPDATE SET user_id = excluded.user_id, provider = excluded.provider`, [name, userId, provider, at]);
  }

  /** Records an account connected through authorize_calendar (not in the config file), with its settings. */
  async connectAccount(name: string, userId: string, provider: string, settings: Record<string, unknown>, at: string): Promise<void> {
    await this.sql.run(`INSERT INTO accounts (name, user_id, provider, created_at, connected) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(name) DO UPDATE SET user_id = excluded.user_id, provider = excluded.provider, connected = excluded.connected`,
    [name, userId, provider, at, JSON.stringify(settings)]);
  }

  async connectedAccounts(): Promise<Array<{ name: string; userId: string; provider: string; settings: Record<string, unknown> }>> {
    const rows = await this.sql.all<{ name: string; user_id: string; provider: string; connected: string }>(
      'SELECT name, user_id, provider, connected FROM accounts WHERE connected IS NOT NULL ORDER BY created_at, name');
    return rows.map((r) => ({ name: r.name, userId: r.user_id, provider: r.provider, settings: JSON.parse(r.connected) as Record<string, unknown> }));
  }

  async account(name: string): Promise<AccountRow | undefined> {
    const r = await this.sql.get<Record<string, string | null>>('SELECT * FROM accounts WHERE name = ?', [name]);
    return r && {
      name: r.name!, userId: r.user_id!, provider: r.provider!, cursor: r.cursor ?? null, status: r.status!, statusDetail: r.status_detail ?? null,
      lastSyncAt: r.last_sync_at ?? null, lastSuccessAt: r.last_success_at ?? null,
    };
  }

  /** The calendar the account's links are in, or null when not known yet. */
  async accountCalendar(name: string): Promise<string | null> {
    return (await this.sql.get<{ calendar: string | null }>('SELECT calendar FROM accounts WHERE name = ?', [name]))?.calendar ?? null;
  }

  async setAccountCalendar(name: string, calendar: string): Promise<void> {
    await this.sql.run('UPDATE accounts SET calendar = ? WHERE name = ?', [calendar, name]);
  }

  /** Every link of an account: its events are to be made again (in another calendar). */
  async forgetLinks(account: string): Promise<void> {
    await this.sql.run('DELETE FROM links WHERE account = ?', [account]);
  }

  async setCursor(name: string, cursor: string | null): Promise<void> {
    await this.sql.run('UPDATE accounts SET cursor = ? WHERE name = ?', [cursor, name]);
  }

  async setStatus(name: string, status: string, detail: string | null, at: string, success: boolean): Promise<void> {
    await this.sql.run(`UPDATE accounts SET status = ?, status_detail = ?, last_sync_at = ?,
      last_success_at = CASE WHEN ? = 1 THEN ? ELSE last_success_at END WHERE name = ?`, [status, detail, at, success ? 1 : 0, at, name]);
  }

  async links(account: string): Promise<Link[]> {
    return (await this.sql.all<LinkRow>('SELECT * FROM links WHERE account = ? ORDER BY key', [account])).map(toLink);
  }

  async link(account: string, key: string): Promise<Link | undefined> {
    const r = await this.sql.get<LinkRow>('SELECT * FROM links WHERE account = ? AND key = ?', [account, key]);
    return r && toLink(r);
  }

  async linksForItem(itemId: string): Promise<Link[]> {
    return (await this.sql.all<LinkRow>('SELECT * FROM links WHERE item_id = ? ORDER BY account, key', [itemId])).map(toLink);
  }

  async linkByRemoteId(remoteId: string): Promise<Link | undefined> {
    const r = await this.sql.get<LinkRow>('SELECT * FROM links WHERE remote_id = ? LIMIT 1', [remoteId]);
    return r && toLink(r);
  }

  async saveLink(link: Link): Promise<void> {
    await this.sql.run(`INSERT INTO links (account, key, item_id, trip_id, remote_id, remote_etag, remote_hash, remote_link, remote_content,
        written_hash, written_remote_hash, written_version, pending_hash, pending_remote_hash, written_content, state, last_error, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT(account, key) DO UPDATE SET item_id = excluded.item_id, trip_id = excluded.trip_id, remote_id = excluded.remote_id,
        remote_etag = excluded.remote_etag, remote_hash = excluded.remote_hash, remote_link = excluded.remote_link,
        remote_content = excluded.remote_content, written_hash = excluded.written_hash, written_remote_hash = excluded.written_remote_hash,
        written_version = excluded.written_version, pending_hash = excluded.pending_hash,
        pending_remote_hash = excluded.pending_remote_hash, written_content = excluded.written_content, state = excluded.state,
        last_error = excluded.last_error, updated_at = excluded.updated_at`,
    [link.account, link.key, link.itemId, link.tripId, link.remoteId, link.remoteEtag, link.remoteHash, link.remoteLink,
      link.remoteContent ? JSON.stringify(link.remoteContent) : null, link.writtenHash, link.writtenRemoteHash, link.writtenVersion,
      link.pendingHash, link.pendingRemoteHash, link.writtenContent ? JSON.stringify(link.writtenContent) : null, link.state,
      link.lastError, link.updatedAt]);
  }

  async deleteLink(account: string, key: string): Promise<void> {
    await this.sql.run('DELETE FROM links WHERE account = ? AND key = ?', [account, key]);
  }

  /** Ids of every item the user ever had (live or deleted): events naming other ids are not ours. */
  async knownItemIds(userId: string): Promise<Set<string>> {
    return new Set((await this.sql.all<{ id: string }>('SELECT id FROM items WHERE user_id = ?', [userId])).map((r) => r.id));
  }

  /** The user's deleted items (or items of deleted trips), with the trip each was last in: deleting their events is intended. */
  async deletedItems(userId: string): Promise<Map<string, string>> {
    const rows = await this.sql.all<{ id: string; trip_id: string }>(`SELECT items.id, items.trip_id FROM items JOIN trips ON trips.id = items.trip_id
      WHERE items.user_id = ? AND (items.deleted_at IS NOT NULL OR trips.deleted_at IS NOT NULL)`, [userId]);
    return new Map(rows.map((r) => [r.id, r.trip_id]));
  }

  async journal(entry: { account: string; key?: string; itemId?: string; tripId?: string; action: string; detail?: Record<string, unknown> }, at: string): Promise<void> {
    await this.sql.run('INSERT INTO journal (at, trip_id, item_id, action, detail, account, event_key) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [at, entry.tripId ?? null, entry.itemId ?? null, entry.action, entry.detail ? JSON.stringify(entry.detail) : null, entry.account, entry.key ?? null]);
  }
}
