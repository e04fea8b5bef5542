// `tripcal auth <provider> [ACCOUNT]` for a provider whose terminal sign-in is `loopback` (Google):
// connects an account from a terminal. A one-shot HTTP server on 127.0.0.1 (a random port)
// receives the provider's redirect, so the flow finishes by itself when the browser comes back
// (the loopback flow for installed apps; Google's Desktop-app OAuth clients accept any loopback
// port). On a server without a browser (SSH, systemd, Docker) the browser elsewhere cannot reach
// that port: the person pastes the address it was sent to (or just its code) back into the
// terminal, or forwards the port (`ssh -L`, with --port).
import { createInterface } from 'node:readline';
import {
  abandonAuthorization, accountFor, connectorFor, finishAuthorization, providerName, signsInWith, type Connected,
} from '../auth/connect.js';
import { STATE_TTL_MS } from '../auth/states.js';
import { LoopbackReceiver, type Outcome, type Redirect } from '../auth/loopback.js';
import { InputError } from '../errors.js';
import { requireSetup } from '../auth/setup.js';
import { withApp, type GlobalOptions } from './common.js';

export interface AuthLoopbackOptions extends GlobalOptions {
  user?: string;
  port?: string;
  calendar?: string;
}

export async function authLoopbackCommand(provider: string, accountName: string | undefined, options: AuthLoopbackOptions): Promise<void> {
  await withApp(options, async (app) => {
    const userId = app.trips.userId(options.user);
    // The command receives the redirect itself: only the OAuth client can be missing.
    requireSetup(provider, app.config, true);
    const target = await accountFor(app, provider, userId, accountName, options.calendar);
    const port = options.port === undefined ? 0 : Number(options.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InputError('--port', 'a port number (0 picks a free one)');
    const restart = `run \`tripcal auth ${provider}\` again`;
    const flow = connectorFor(app, provider, restart);
    const who = signsInWith(provider);
    let state = '';
    let settle: (result: Connected | Error) => void = () => undefined;
    const finished = new Promise<Connected | Error>((resolve) => (settle = resolve));
    // The outcome is settled once the browser has its page, so closing cannot cut it off.
    let result: Connected | Error | undefined;
    let handling = false;
    const finish = async (redirect: Redirect): Promise<Outcome> => {
      handling = true;
      if (!redirect.code) {
        await abandonAuthorization(app, redirect.state);
        result = new InputError('authorization', `${who} did not authorize tripcal (${redirect.error ?? 'no code in the redirect'}); nothing was stored`);
        return { ok: false, text: `${who} said: ${redirect.error ?? 'no code'}.` };
      }
      try {
        result = await finishAuthorization(app, userId, redirect.code, redirect.state, restart);
        return { ok: true, text: 'You can close this tab and go back to the terminal.' };
      } catch (error) {
        result = error as Error;
        throw error;
      }
    };
    // Only the first redirect counts: a reload while it is being handled gets a 404, not a second exchange.
    const receiver = new LoopbackReceiver('/callback', async (s) => s === state && !handling, finish, () => result && settle(result));
    const pasted = readPasted((line) => {
      if (handling || !state) return;
      const redirect = redirectFromPaste(line, state);
      if (!redirect) {
        process.stderr.write('That is neither the address the browser was sent to (http://127.0.0.1:…/callback?…&code=…) nor a code; paste it again.\n');
        return;
      }
      void finish(redirect).then(() => settle(result!), (error: Error) => settle(error));
    });
    let bound: number;
    try {
      bound = await receiver.listen('127.0.0.1', port);
    } catch (error) {
      throw new InputError('--port', `cannot listen on 127.0.0.1:${port} (${(error as Error).message})`);
    }
    const timer = setTimeout(() => settle(new InputError('authorization', 'no answer from the browser within 10 minutes; run the command again')), STATE_TTL_MS);
    try {
      const redirectUri = `http://127.0.0.1:${bound}/callback`;
      const started = await flow.start(userId, target.name, target.calendar, redirectUri);
      state = started.state;
      process.stdout.write(`Open this URL in a browser to connect ${providerName(provider)} (account "${target.name}", user "${userId}"):\n\n  ${started.authUrl}\n\n`
        + `Waiting for ${who} to send the browser back to ${redirectUri} (up to 10 minutes)…\n`
        + 'Browser on another machine? After you allow access it shows a page that cannot be reached: copy the whole address from its '
        + 'address bar, paste it here and press Enter. (Or forward the port: ssh -L PORT:127.0.0.1:PORT this-server, then run this with --port PORT.)\n');
      const done = await finished;
      if (done instanceof Error) throw done;
      const lines = done.calendars.map((c) => `  ${c.selected ? '*' : ' '} ${c.name} (${c.accessRole ?? (c.writable ? 'writer' : 'reader')})${c.primary ? ' [primary]' : ''}`);
      process.stdout.write(`Connected account "${done.account}"; the tokens are stored encrypted with the key from ${app.vault.keySource()}.\n`
        + (lines.length ? `Calendars (* = where trips go):\n${lines.join('\n')}\n` : '')
        + (done.calendarsError ? `Could not list the calendars: ${done.calendarsError}\n` : '')
        + `Sync: ${done.sync.message}\n`);
    } finally {
      clearTimeout(timer);
      receiver.close();
      pasted.close();
    }
  });
}

/** What a person pasted: the whole redirect address (with code and state), a query string, or a bare code. */
export function redirectFromPaste(line: string, state: string): Redirect | null {
  const text = line.trim();
  if (!text) return null;
  const query = /[?&](code|error)=/.test(text) ? text.slice(text.indexOf('?') + 1) : null;
  if (query !== null) {
    const params = new URLSearchParams(query.replace(/#.*$/, ''));
    // A pasted address must be this flow's: its state is checked again when the code is exchanged.
    return { code: params.get('code'), state: params.get('state') ?? state, error: params.get('error') };
  }
  return /^[\w./-]{10,}$/.test(text) ? { code: text, state, error: null } : null;
}

/** Lines typed or piped in while waiting; nothing when stdin is closed. */
function readPasted(onLine: (line: string) => void): { close: () => void } {
  if (process.stdin.destroyed) return { close: () => undefined };
  const rl = createInterface({ input: process.stdin, terminal: false });
  rl.on('line', onLine);
  return { close: () => { rl.close(); process.stdin.unref?.(); } };
}
