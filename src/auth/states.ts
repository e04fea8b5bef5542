// The `state` of an OAuth authorization-code flow (Google and Microsoft alike): 256 bits of
// randomness, single-use, bound to the user, provider and account, expiring after 10 minutes.
// Only a hash of it is stored; the PKCE verifier that goes with it is sealed by the vault.
import { createHash, randomBytes } from 'node:crypto';
import { InputError, OAuthError } from '../../core/errors.js';
import type { SignInStates } from '../../providers/oauth.js';
import { OAUTH_PROVIDERS } from '../../providers/registry.js';

export { OAuthError };
export { redirectUriOf } from '../../providers/oauth.js';
import type { OAuthStateRows } from '../store/secrets.js';
import type { Vault } from './vault.js';

/** How a person signing in through an assistant starts over. */
export const RESTART_WITH_TOOL = 'start again with authorize_calendar';

export const STATE_TTL_MS = 10 * 60 * 1000;

/** A provider connected by signing in: one of the registry's OAuth descriptors (OAUTH_PROVIDERS). */
export type OAuthProvider = string;

export interface Issued {
  state: string;
  expiresAt: string;
}

/** A state that was taken (checked and used up): what the flow was started for. */
export interface TakenState {
  provider: OAuthProvider;
  account: string;
  calendar: string;
  redirectUri: string;
  verifier: string;
}


const hashState = (state: string) => createHash('sha256').update(state).digest('hex');

export class OAuthStates implements SignInStates {
  /** `restart`: how the person starts over, in the words of where they signed in (a tool, a command). */
  constructor(
    private readonly rows: OAuthStateRows,
    private readonly vault: Vault,
    private readonly restart = RESTART_WITH_TOOL,
    private readonly now: () => number = Date.now,
  ) {}

  async issue(userId: string, provider: OAuthProvider, account: string, calendar: string, redirectUri: string, verifier: string): Promise<Issued> {
    if (!OAUTH_PROVIDERS.includes(provider)) throw new InputError('provider', `"${provider}" is not connected by signing in (there are: ${OAUTH_PROVIDERS.join(', ')})`);
    const state = randomBytes(32).toString('base64url');
    const created = this.now();
    const hash = hashState(state);
    const expiresAt = new Date(created + STATE_TTL_MS).toISOString();
    await this.rows.insert(hash, {
      user_id: userId, provider, account, calendar, redirect_uri: redirectUri, verifier: await this.vault.seal(`oauth-state:${hash}`, verifier),
      created_at: new Date(created).toISOString(), expires_at: expiresAt,
    }, new Date(created - STATE_TTL_MS).toISOString());
    return { state, expiresAt };
  }

  /** Who a state that can still be completed (known, unused, unexpired) is for, else null. */
  async pending(state: string): Promise<{ userId: string; provider: OAuthProvider } | null> {
    const row = await this.rows.find(hashState(state));
    return row && !row.used_at && Date.parse(row.expires_at) > this.now() ? { userId: row.user_id, provider: row.provider } : null;
  }

  /** The user declined on the provider's page: the state is used up. */
  async abandon(state: string): Promise<void> {
    await this.rows.markUsed(hashState(state), new Date(this.now()).toISOString());
  }

  /** Checks the state (known, this user's, unused, unexpired) and uses it up. A refused state changes nothing. */
  async take(userId: string, state: string): Promise<TakenState> {
    const hash = hashState(state);
    const row = await this.rows.find(hash);
    if (!row) throw new OAuthError('state', `unknown: it was not issued by this tripcal (or was cleaned up long ago); ${this.restart}`);
    if (row.user_id !== userId) throw new OAuthError('state', `was issued for another user, not "${userId}"; ${this.restart} for this user`);
    if (row.used_at) throw new OAuthError('state', `already used: each authorization can be completed once (if the browser said "tripcal is connected", it is done: see sync_status); else ${this.restart}`);
    if (Date.parse(row.expires_at) <= this.now()) throw new OAuthError('state', `expired (an authorization must be completed within 10 minutes); ${this.restart}`);
    if (!(await this.rows.markUsed(hash, new Date(this.now()).toISOString()))) throw new OAuthError('state', `already used: each authorization can be completed once; ${this.restart}`);
    return { provider: row.provider, account: row.account, calendar: row.calendar, redirectUri: row.redirect_uri, verifier: await this.vault.open(`oauth-state:${hash}`, row.verifier) };
  }
}
