// Receives Google's redirect on 127.0.0.1 (the loopback flow for installed apps), so connecting
// finishes by itself when the browser comes back: `tripcal auth google` starts one on a free
// port; `tripcal serve` starts one for authorize_calendar when the redirect URI is a loopback
// address it can listen on. Only the redirect path with a `state` we issued is answered; anything
// else gets a 404 and is ignored, so a stray request can neither finish nor stop a flow.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { log } from '../log.js';
import { STATE_TTL_MS } from './states.js';

export interface Redirect {
  code: string | null;
  state: string;
  error: string | null;
}

/** What the browser is shown once the redirect was handled. */
export interface Outcome {
  ok: boolean;
  text: string;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const page = (outcome: Outcome) => {
  const title = outcome.ok ? 'tripcal is connected' : 'tripcal was not connected';
  return `<!doctype html><meta charset="utf-8"><title>${title}</title>`
    + `<body style="font-family:sans-serif;max-width:36em;margin:4em auto"><h1>${title}</h1><p>${escapeHtml(outcome.text)}</p></body>`;
};

export const isLoopback = (uri: string) => {
  const url = new URL(uri);
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
};

export class LoopbackReceiver {
  private server: Server | undefined;
  private idleTimer: NodeJS.Timeout | undefined;

  /**
   * @param path the redirect URI's path
   * @param accepts whether a state is one of ours (and still pending)
   * @param handle finishes the flow; what it returns is shown in the browser
   * @param answered called once the browser has had its page
   */
  constructor(
    private readonly path: string,
    private readonly accepts: (state: string) => Promise<boolean>,
    private readonly handle: (redirect: Redirect) => Promise<Outcome>,
    private readonly answered: () => void = () => undefined,
  ) {}

  /** Listens on the host and port of `redirectUri` (port 0: a free one). Returns the bound port. */
  async listen(host: string, port: number): Promise<number> {
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const state = url.searchParams.get('state');
      const notFound = () => res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
      if (req.method !== 'GET' || url.pathname !== this.path || !state) return notFound();
      const redirect = { code: url.searchParams.get('code'), state, error: url.searchParams.get('error') };
      const show = (outcome: Outcome) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(outcome), () => this.answered());
      this.accepts(state).then(
        (ours) => (ours ? this.handle(redirect).then(show, (error: Error) => show({ ok: false, text: error.message })) : notFound()),
        (error: Error) => show({ ok: false, text: error.message }),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host.replace(/^\[|\]$/g, ''), () => resolve());
    });
    server.on('error', (error) => log.warn('the OAuth redirect listener failed', { error: error.message }));
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  get listening(): boolean {
    return this.server?.listening === true;
  }

  /** Closes after `ms` unless touched again (a new flow on the same port keeps it open). */
  closeAfter(ms: number): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.close(), ms);
    this.idleTimer.unref();
  }

  close(): void {
    clearTimeout(this.idleTimer);
    this.server?.closeAllConnections();
    this.server?.close();
    this.server = undefined;
  }
}

/**
 * One loopback receiver per redirect URI this process may listen on (loopback, with a port),
 * shared by the sign-ins that use it and closed after the longest of them can still finish.
 */
export class RedirectListeners {
  private readonly receivers = new Map<string, LoopbackReceiver>();

  constructor(private readonly isPending: (state: string) => Promise<boolean>, private readonly finish: (redirect: Redirect) => Promise<{ ok: boolean; text: string }>) {}

  /** Listens on the redirect URI if it is ours to listen on; false when not (the code then comes by hand). */
  async listen(redirectUri: string): Promise<boolean> {
    const url = new URL(redirectUri);
    if (!isLoopback(redirectUri) || !url.port) return false;
    const key = `${url.hostname}:${url.port}${url.pathname}`;
    let receiver = this.receivers.get(key);
    if (!receiver?.listening) {
      const made = new LoopbackReceiver(url.pathname, this.isPending, this.finish);
      try {
        await made.listen(url.hostname, Number(url.port));
      } catch (error) {
        log.info('cannot listen on the OAuth redirect URI; handle_auth_callback will finish', { port: url.port, error: (error as Error).message });
        return false;
      }
      this.receivers.set(key, made);
      receiver = made;
    }
    receiver.closeAfter(STATE_TTL_MS + 60_000);
    return true;
  }
}
