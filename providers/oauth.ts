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
  issue(userId: string, provider: string, account: string, calendar: string, redirectUri: string, verifier: string): Promise<{ state: string; expiresAt: string }>;
  pending(state: string): Promise<{ userId: string; provider: string } | null>;
  abandon(state: string): Promise<void>;
  /** Checks the state (known, this user's, unused, unexpired) and uses it up; an OAuthError otherwise. */
  take(userId: string, state: string): Promise<TakenSignIn>;
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
  /**
   * Every key of the block, with the environment variable read when config.yaml does not set it
   * (`client_id` → GOOGLE_CLIENT_ID). A `${VAR}` left unset in one of them leaves the key unset
   * instead of stopping tripcal: what needs it says so.
   */
  env: Record<string, string>;
  needs(clients: Clients, redirectGiven: boolean): SetupNeed[];
}

/** How `tripcal auth <kind>` signs in from a terminal, and the words of its help. */
export interface TerminalSignIn {
  /**
   * `loopback`: a URL to open; the browser comes back to 127.0.0.1 (or its address is pasted back).
   * `device`: a code typed on any device (the connector's `deviceCode`), fine on a server.
   */
  flow: 'loopback' | 'device';
  /** What the command connects, for its help: "a Google account". */
  connects: string;
  /** Whose account the account name defaults to, for its help: "Google" (the user's Google account). */
  accountOf: string;
  /** What --calendar's help says of `primary`, in brackets: "default", "the default calendar". */
  primary: string;
}

/** What the device-code flow shows the person: where to go and the code to type. */
export interface DevicePrompt {
  message: string;
  userCode: string;
  verificationUri: string;
  expiresInSeconds: number;
}

/** A sign-in that was kept: the account and calendar it was for (and, when known, who signed in). */
export interface SignedIn {
  account: string;
  calendar: string;
  username?: string | null;
}

/** A provider's authorization-code sign-in, as authorize_calendar and handle_auth_callback drive it. */
export interface OAuthConnector {
  /** The redirect URI to use (given, else configured), or an InputError saying where to set one. */
  redirectUri(given: string | undefined): string;
  start(userId: string, account: string, calendar: string, redirectUri: string): Promise<{ authUrl: string; state: string; expiresAt: string }>;
  /** Checks the state, trades the code, keeps the credentials; an OAuthError when any of it is refused. */
  finish(userId: string, code: string, state: string): Promise<SignedIn>;
  /**
   * The device-code flow (providers whose terminal sign-in is `device`): `prompt` gets the code to
   * show; resolves once the person signed in on another device, keeping the credentials.
   */
  deviceCode?(account: string, calendar: string, prompt: (p: DevicePrompt) => void): Promise<SignedIn>;
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
