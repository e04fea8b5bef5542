// Each user's .ics feed over HTTP at /feeds/<token>.ics, for calendar apps to subscribe to
// (Google, Outlook and Apple fetch it from their servers; webcal:// opens the subscribe dialog).
// The token is 32 random bytes, kept in the vault; a wrong one is a plain 404, looked up by hash
// so that no comparison leaks how much of it was right. ETag / If-None-Match → 304 saves the
// calendar app a download when nothing changed.
import { createHash, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { App } from '../app.js';

const secretName = (userId: string) => `feed:${userId}:token`;
const digest = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
/** Unknown tokens read the users' tokens again at most this often. */
const RELOAD_MS = 10_000;

export class FeedServer {
  /** sha256(token) → user */
  private readonly users = new Map<string, string>();
  private readonly etags = new Map<string, { mtimeMs: number; size: number; etag: string }>();
  private loadedAt = 0;

  constructor(private readonly app: App) {}

  /** The user's feed token, made on first use. */
  async token(userId: string): Promise<string> {
    let token = await this.app.vault.get(secretName(userId));
    if (!token) token = await this.app.vault.setIfAbsent(secretName(userId), randomBytes(32).toString('base64url'));
    this.users.set(digest(token), userId);
    return token;
  }

  async url(base: string, userId: string): Promise<string> {
    return `${base}/feeds/${await this.token(userId)}.ics`;
  }

  /** Loads the tokens of every known user, so their feeds answer from the first request. */
  async loadAll(): Promise<void> {
    this.loadedAt = Date.now();
    for (const user of await this.app.store.listUsers()) await this.token(user.id);
  }

  /**
   * The user whose feed token this is. A token not known here may be a user's made since (by
   * another process on the same store): the tokens are read again, at most every few seconds.
   */
  private async userOf(token: string): Promise<string | undefined> {
    const known = this.users.get(digest(token));
    if (known || Date.now() - this.loadedAt < RELOAD_MS) return known;
    await this.loadAll();
    return this.users.get(digest(token));
  }

  async handle(req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
    const userId = await this.userOf(token);
    if (!userId) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
      return;
    }
    const path = this.app.feeds.path(userId);
    // Written now when missing (a new user, a file removed by hand) or behind the model (changed
    // by another process on the same store).
    await this.app.feeds.current(userId);
    const info = await stat(path);
    let cached = this.etags.get(userId);
    let body: Buffer | undefined;
    if (!cached || cached.mtimeMs !== info.mtimeMs || cached.size !== info.size) {
      body = await readFile(path);
      cached = { mtimeMs: info.mtimeMs, size: info.size, etag: `"${digest(body).slice(0, 32)}"` };
      this.etags.set(userId, cached);
    }
    const headers = {
      'content-type': 'text/calendar; charset=utf-8',
      etag: cached.etag,
      'cache-control': 'no-cache',
      'content-disposition': 'inline; filename="trips.ics"',
    };
    const match = req.headers['if-none-match'];
    if (match && match.split(',').map((t) => t.trim().replace(/^W\//, '')).includes(cached.etag)) {
      res.writeHead(304, headers).end();
      return;
    }
    body ??= await readFile(path);
    res.writeHead(200, { ...headers, 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}
