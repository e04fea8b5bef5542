// `tripcal auth google [ACCOUNT]`: connects a Google account from a terminal. A one-shot HTTP
// server on 127.0.0.1 (a random port) receives Google's redirect, so the flow finishes by itself
// when the browser comes back (Google's loopback flow for installed apps). Works for Desktop-app
// OAuth clients, which accept any loopback port.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connector, finishGoogle, googleAccountFor } from '../auth/connect.js';
import { STATE_TTL_MS } from '../auth/google-oauth.js';
import { InputError } from '../errors.js';
import { withApp, type GlobalOptions } from './common.js';

export interface AuthGoogleOptions extends GlobalOptions {
  user?: string;
  port?: string;
  calendar?: string;
}

const page = (title: string, text: string) => `<!doctype html><meta charset="utf-8"><title>${title}</title>`
  + `<body style="font-family:sans-serif;max-width:36em;margin:4em auto"><h1>${title}</h1><p>${text}</p></body>`;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Waits for the redirect that carries our state; anything else gets a 404 and is ignored. */
function awaitRedirect(server: Server, state: string): Promise<{ code: string } | { error: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new InputError('authorization', 'no answer from the browser within 10 minutes; run the command again')), STATE_TTL_MS);
    server.on('request', (req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== '/callback' || url.searchParams.get('state') !== state) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
        return;
      }
      const code = url.searchParams.get('code');
      const error = url.searchParams.get('error');
      clearTimeout(timer);
      if (code) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page('tripcal is connected', 'You can close this tab and go back to the terminal.'));
        resolve({ code });
      } else {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page('tripcal was not connected', `Google said: ${escapeHtml(error ?? 'no code')}.`));
        resolve({ error: error ?? 'no code in the redirect' });
      }
    });
  });
}

export async function authGoogleCommand(accountName: string | undefined, options: AuthGoogleOptions): Promise<void> {
  await withApp(options, async (app) => {
    const userId = app.trips.userId(options.user);
    const target = googleAccountFor(app, userId, accountName, options.calendar);
    const port = options.port === undefined ? 0 : Number(options.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InputError('--port', 'a port number (0 picks a free one)');
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new InputError('--port', `cannot listen on 127.0.0.1:${port} (${(e as Error).message})`)));
      server.listen(port, '127.0.0.1', resolve);
    });
    try {
      const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
      const started = await connector(app).start(userId, target.name, target.calendar, redirectUri);
      process.stdout.write(`Open this URL in a browser to connect Google Calendar (account "${target.name}", user "${userId}"):\n\n  ${started.authUrl}\n\n`
        + `Waiting for Google to send the browser back to ${redirectUri} (up to 10 minutes)…\n`);
      const answer = await awaitRedirect(server, started.state);
      if ('error' in answer) throw new InputError('authorization', `Google did not authorize tripcal (${answer.error}); nothing was stored`);
      const done = await finishGoogle(app, userId, answer.code, started.state);
      const lines = done.calendars.map((c) => `  ${c.selected ? '*' : ' '} ${c.name} (${c.accessRole ?? (c.writable ? 'writer' : 'reader')})${c.primary ? ' [primary]' : ''}`);
      process.stdout.write(`Connected account "${done.account}"; the tokens are stored encrypted with the key from ${app.vault.keySource()}.\n`
        + (lines.length ? `Calendars (* = where trips go):\n${lines.join('\n')}\n` : '')
        + (done.calendarsError ? `Could not list the calendars: ${done.calendarsError}\n` : '')
        + `Sync: ${done.sync.message}\n`);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
}
