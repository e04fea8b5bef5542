// Who an MCP call is for. Over stdio it is the person who started the process, and over HTTP
// without authentication anyone local: they may act for any user (`user_id` picks one). A
// request whose token names a user acts for that user alone: a `user_id` naming someone else, or
// an account of someone else, is refused before the tool runs and changes nothing; trips and
// items of someone else are not found (the trips service looks them up for the user only).
import type { App } from '../app.js';
import { InputError, NotFoundError } from '../errors.js';
import { failure } from './result.js';

export interface Principal {
  /** The one user this caller may act for; undefined: any user (stdio, an admin, no authentication). */
  user?: string;
  /** May it change anything (the `write` scope), or only read? */
  write: boolean;
}

/** The caller of stdio and of an unauthenticated loopback daemon: anyone, everything. */
export const ANYONE: Principal = { write: true };

type ToolCallback = (args: Record<string, unknown>, ctx: unknown) => unknown;

/**
 * The tool's callback as this caller may use it. `takesUser`: the tool has a `user_id` input,
 * filled in with the caller's user; `readOnly`: the tool changes nothing (annotations).
 */
export function forPrincipal(app: App, tool: string, cb: ToolCallback, principal: Principal, takesUser: boolean, readOnly: boolean): ToolCallback {
  if (principal.user === undefined && principal.write) return cb;
  return async (args, ctx) => {
    try {
      if (!principal.write && !readOnly) {
        throw new InputError('token', `this token may only read (scope "tripcal:read"); ${tool} changes things`);
      }
      const user = principal.user;
      if (user !== undefined) {
        const named = args?.user_id;
        if (named !== undefined && named !== user) {
          throw new InputError('user_id', `this connection acts for user "${user}"; it cannot read or change what belongs to "${String(named)}"`);
        }
        if (typeof args?.account === 'string' && tool !== 'authorize_calendar') await ownAccount(app, args.account, user, 'account');
        if (takesUser) args = { ...args, user_id: user };
      }
    } catch (error) {
      return failure(error, tool);
    }
    return cb(args, ctx);
  };
}

/** An account of this user's, or not found (whether it exists for someone else is not told). */
export async function ownAccount(app: App, name: string, user: string, field: string): Promise<void> {
  const mine = (await app.sync.accounts(user)).some((a) => a.name === name);
  if (!mine) throw new NotFoundError(field, `no account "${name}" for user "${user}"`);
}
