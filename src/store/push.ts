// The rows of push notification channels: Google watch channels and Graph subscriptions, one or
// two per account (two while a Google channel is being replaced). The channel's token /
// clientState is kept by its SHA-256 only: nothing here can be presented as a notification's
// secret. Every replica reads them to check a notification; one at a time writes them.
import type { Sql } from './sql.js';

export interface PushChannelRow {
  channel_id: string;
  account: string;
  provider: string;
  resource_id: string | null;
  /** SHA-256 (hex) of the channel token / clientState. */
  secret_hash: string;
  address: string;
  expires_at: string;
  created_at: string;
  /** When a notification first proved the provider reaches us on it; null until then (not yet live). */
  confirmed_at: string | null;
}

export class PushChannelRows {
  constructor(private readonly sql: Sql) {}

  async add(row: PushChannelRow): Promise<void> {
    await this.sql.run(`INSERT INTO push_channels (channel_id, account, provider, resource_id, secret_hash, address, expires_at, created_at, confirmed_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, [row.channel_id, row.account, row.provider, row.resource_id, row.secret_hash, row.address, row.expires_at, row.created_at, row.confirmed_at]);
  }

  byId(channelId: string): Promise<PushChannelRow | undefined> {
    return this.sql.get<PushChannelRow>('SELECT * FROM push_channels WHERE channel_id = ?', [channelId]);
  }

  /** An account's channels, the one ending last first. */
  forAccount(account: string): Promise<PushChannelRow[]> {
    return this.sql.all<PushChannelRow>('SELECT * FROM push_channels WHERE account = ? ORDER BY expires_at DESC, channel_id', [account]);
  }

  all(): Promise<PushChannelRow[]> {
    return this.sql.all<PushChannelRow>('SELECT * FROM push_channels ORDER BY account, expires_at DESC, channel_id');
  }

  /** Whether the account has a channel that is live at `at` (ISO, UTC): not ended, and heard from. */
  async live(account: string, at: string): Promise<boolean> {
    return (await this.sql.get<{ n: number }>('SELECT count(*) AS n FROM push_channels WHERE account = ? AND expires_at > ? AND confirmed_at IS NOT NULL', [account, at]))!.n > 0;
  }

  /** A notification carried the channel's secret: it works (the first time only is kept). */
  async confirm(channelId: string, at: string): Promise<void> {
    await this.sql.run('UPDATE push_channels SET confirmed_at = ? WHERE channel_id = ? AND confirmed_at IS NULL', [at, channelId]);
  }

  /** What the provider answered for a channel added before it was asked (its resourceId, its real end). */
  async settle(channelId: string, resourceId: string | null, expiresAt: string): Promise<void> {
    await this.sql.run('UPDATE push_channels SET resource_id = ?, expires_at = ? WHERE channel_id = ?', [resourceId, expiresAt, channelId]);
  }

  async setExpiry(channelId: string, expiresAt: string): Promise<void> {
    await this.sql.run('UPDATE push_channels SET expires_at = ? WHERE channel_id = ?', [expiresAt, channelId]);
  }

  async remove(channelId: string): Promise<void> {
    await this.sql.run('DELETE FROM push_channels WHERE channel_id = ?', [channelId]);
  }
}
