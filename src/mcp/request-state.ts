// What a tool that asked the person something remembers until the client comes back with the
// answer (2026-07-28 `requestState`; the 2025-11-25 stdio shim echoes it too). It travels through
// the client, so it is signed (HMAC-SHA256) with a key derived from the vault's, the same in every
// process on the data directory (a load balancer may send the retry to a replica), and expires.
// Signed, not encrypted: it holds names the client already knows, never a secret.
import { createRequestStateCodec, type RequestStateCodec, type ServerContext } from '@modelcontextprotocol/server';
import type { App } from '../app.js';
import { perApp } from '../per-app.js';

/** An answer is expected within ten minutes. */
const TTL_SECONDS = 600;

export interface AskedState {
  /** Which tool asked (a state minted by one tool is no use to another). */
  tool: string;
  /** The user the call was for. */
  user: string;
  /** What the tool needs to go on (an account's name, …). */
  data: Record<string, string>;
}

export const requestStates: (app: App) => Promise<RequestStateCodec<AskedState>> = perApp(async (app) =>
  createRequestStateCodec<AskedState>({ key: new Uint8Array(await app.derivedKey('mcp request state')), ttlSeconds: TTL_SECONDS }));

/** The state this call was retried with, when it was minted by `tool` for `user`; else undefined. */
export function askedState(ctx: ServerContext, tool: string, user: string): AskedState['data'] | undefined {
  const state = ctx.mcpReq.requestState<AskedState>();
  return state && state.tool === tool && state.user === user ? state.data : undefined;
}
