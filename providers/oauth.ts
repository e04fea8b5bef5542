// What a provider's OAuth sign-in (authorization code + PKCE, around a single-use state) needs
// from tripcal, as interfaces, so the sign-in lives in the provider's folder: where states are
// kept (hashed, verifier sealed) and where secrets go. Recording the connected account is tripcal's.
import { InputError } from '../core/errors.js';

/** A sign-in state once taken (checked and used up): what the flow was started for. */
export interface TakenSignIn {
  provider: string;
  account: string;
  calendar: string;
  redirectUri: string;
  verifier: string;
}

export interface SignInStates {
  issue(userId: string, provider: string, account: string, calendar: string, redirectUri: string, verifier: string): { state: string; expiresAt: string };
  pending(state: string): { userId: string; provider: string } | null;
  abandon(state: string): void;
  /** Checks the state (known, this user's, unused, unexpired) and uses it up; an OAuthError otherwise. */
  take(userId: string, state: string): TakenSignIn;
}

/** What a sign-in needs from tripcal. */
export interface SignInDeps {
  states: SignInStates;
  secrets: import('./descriptor.js').SecretStore;
  /** How the person starts over when a sign-in is refused ("start again with authorize_calendar"). */
  restart: string;
}

/** One thing a sign-in needs from the configuration: its config key, its environment variable, whether it is set. */
export interface SetupNeed {
  what: string;
  key: string;
  env: string;
  present: boolean;
}

/** What an OAuth provider's sign-in needs set up, for the one message that names all of it. */
export interface SignInSetup<Clients> {
  /** The config.yaml block the keys go in (`google:`). */
  block: string;
  /** Where the values come from (the provider's console), and the README section that walks through it. */
  where: string;
  readme: string;
  /** The loopback redirect URI the README suggests. */
  exampleRedirect: string;
  needs(clients: Clients, redirectGiven: boolean): SetupNeed[];
}

/** A provider's authorization-code sign-in, as authorize_calendar and handle_auth_callback drive it. */
export interface OAuthConnector {
  /** The redirect URI to use (given, else configured), or an InputError saying where to set one. */
  redirectUri(given: string | undefined): string;
  start(userId: string, account: string, calendar: string, redirectUri: string): Promise<{ authUrl: string; state: string; expiresAt: string }>;
  /** Checks the state, trades the code, keeps the credentials; an OAuthError when any of it is refused. */
  finish(userId: string, code: string, state: string): Promise<{ account: string; calendar: string }>;
}

/** https, or http on loopback: where an OAuth redirect may go. */
export const loopbackOrHttps = (value: string) => {
  const url = new URL(value);
  return url.protocol === 'https:' || (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname));
};

/** The redirect URI to use: the one given, else the configured one; https, or http on loopback. */
export function redirectUriOf(given: string | undefined, configured: string | undefined, missing: string): string {
  const uri = given ?? configured;
  if (!uri) throw new InputError('redirect_uri', missing);
  let ok = false;
  try {
    ok = loopbackOrHttps(uri);
  } catch {
    throw new InputError('redirect_uri', `"${uri}" is not a URL`);
  }
  if (!ok) throw new InputError('redirect_uri', 'must be an https:// URL, or http:// on 127.0.0.1 / localhost');
  return uri;
}
