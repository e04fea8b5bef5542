// Connecting a calendar by signing in (Google, Microsoft), from whichever way in a person took:
// authorize_calendar over MCP, or the status page's "Reconnect". Both start the same flow (the
// account as authorize_calendar picks it, the provider's consent URL with a single-use state) and,
// when the redirect URI is a loopback address with a port, tripcal listens there itself, so the
// flow finishes when the browser comes back. One set of listeners per App: over HTTP each MCP
// request has its own server instance, and a second listener would find the port taken.
import type { App } from '../app.js';
import { perApp } from '../per-app.js';
import {
  abandonAuthorization, accountFor, connectorFor, finishAuthorization, pendingAuthorization, providerName, signsInWith,
} from './connect.js';
import { RedirectListeners, type Redirect } from './loopback.js';
import { requireSetup } from './setup.js';
import type { OAuthProvider } from './states.js';

export interface SignInRequest {
  userId: string;
  provider: OAuthProvider;
  account?: string | undefined;
  calendar?: string | undefined;
  redirectUri?: string | undefined;
}

export interface StartedSignIn {
  authUrl: string;
  state: string;
  expiresAt: string;
  account: string;
  calendar: string;
  redirectUri: string;
  /** tripcal receives the redirect itself and finishes without handle_auth_callback. */
  listening: boolean;
}

/** What the browser was told when it came back, for whoever started the sign-in. */
export interface SignInOutcome {
  ok: boolean;
  text: string;
}

/** Told when a sign-in it started finished (or was declined) at tripcal's own redirect listener. */
export type SignInWatcher = (outcome: SignInOutcome, detail: { account?: string; sync?: string }) => void;

/** A sign-in's state lives 10 minutes; its watcher is kept a little longer. */
const WATCHER_TTL_MS = 15 * 60 * 1000;

export class SignIns {
  private readonly watchers = new Map<string, { watcher: SignInWatcher; at: number }>();
  private readonly listeners: RedirectListeners;

  constructor(private readonly app: App) {
    this.listeners = new RedirectListeners(async (state) => (await pendingAuthorization(app, state)) !== null, (redirect) => this.finish(redirect));
  }

  /** Starts a sign-in: everything missing in the setup is said at once, before anything starts. */
  async start(request: SignInRequest): Promise<StartedSignIn> {
    requireSetup(request.provider, this.app.config, request.redirectUri !== undefined);
    const flow = connectorFor(this.app, request.provider);
    const redirectUri = flow.redirectUri(request.redirectUri);
    const target = await accountFor(this.app, request.provider, request.userId, request.account, request.calendar);
    const listening = await this.listeners.listen(redirectUri);
    const started = await flow.start(request.userId, target.name, target.calendar, redirectUri);
    return { ...started, account: target.name, calendar: target.calendar, redirectUri, listening };
  }

  /** Tells `watcher` how the sign-in of `state` ended, if it ends at tripcal's own listener. */
  watch(state: string, watcher: SignInWatcher): void {
    const now = Date.now();
    for (const [key, kept] of this.watchers) if (now - kept.at > WATCHER_TTL_MS) this.watchers.delete(key);
    this.watchers.set(state, { watcher, at: now });
  }

  private async finish(redirect: Redirect): Promise<SignInOutcome> {
    const { userId, provider } = (await pendingAuthorization(this.app, redirect.state))!;
    const watcher = this.watchers.get(redirect.state)?.watcher;
    this.watchers.delete(redirect.state);
    if (!redirect.code) {
      await abandonAuthorization(this.app, redirect.state);
      const outcome = { ok: false, text: `${signsInWith(provider)} said: ${redirect.error ?? 'no code'}. Nothing was stored.` };
      watcher?.(outcome, {});
      return outcome;
    }
    const done = await finishAuthorization(this.app, userId, redirect.code, redirect.state);
    const outcome = { ok: true, text: `Connected ${providerName(provider)} (account "${done.account}"). You can close this tab.` };
    watcher?.(outcome, { account: done.account, sync: done.sync.message });
    return outcome;
  }
}

export const signInsOf = perApp((app) => new SignIns(app));
