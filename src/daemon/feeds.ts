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

export class FeedServer {
  /** sha256(token) → user */
  private readonly users = new Map<string, string>();
  private readonly etags = new Map<string, { mtimeMs: number; size: number; etag: string }>();

  constructor(private readonly app: App) {}

  /** The user's feed token, made on first use. */
  token(userId: string): string {
    let token = this.app.vault.get(secretName(userId));
    if (!token) {
      token = randomBytes(32).toString('base64url');
      this.app.vault.set(secretName(userId), token);
    }
    this.users.set(digest(token), userId);
    return token;
  }

  url(base: string, userId: string): string {
    return `${base}/feeds/${this.token(userId)}.ics`;
  }

  /** Loads the tokens of every known user, so their feeds answer from the first request. */
  loadAll(): void {
    for (const user of this.app.store.listUsers()) this.token(user.id);
  }

  async handle(req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
    const userId = this.users.get(digest(token));
    if (!userId) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
      return;
    }
    const path = this.app.feeds.path(userId);
    let info = await stat(path).catch(() => null);
    if (!info) {
      // No feed file yet (a new user, or one removed by hand): write it now.
      this.app.feeds.schedule(userId);
      await this.app.feeds.flush();
      info = await stat(path);
    }
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
