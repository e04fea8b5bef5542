// What the built-in authorization server's endpoints share: the OAuth error they answer with
// (RFC 6749 §5.2), JSON and form bodies, hashes and random values, constant-time comparison.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { READ_SCOPE, WRITE_SCOPE } from './access-tokens.js';

export const SCOPES = [READ_SCOPE, WRITE_SCOPE];
export const MAX_FORM = 64 * 1024;

export interface AuthServerSettings {
  /** The issuer: http.public_url, or the loopback address the daemon listens on; no trailing slash. */
  issuer: string;
  /** The one resource tokens are for: <issuer>/mcp. */
  resource: string;
  accessTokenMinutes: number;
  refreshTokenDays: number;
  /** Accept Client ID Metadata Documents (a client_id that is an https URL), and from private hosts too. */
  clientMetadataDocuments: boolean;
  clientMetadataPrivateHosts: boolean;
}

/** What a registered client said about itself (RFC 7591), as stored. */
export interface ClientMetadata {
  client_name?: string;
  redirect_uris: string[];
  grant_types: string[];
  response_types: string[];
  token_endpoint_auth_method: 'none';
  scope?: string;
  software_id?: string;
  software_version?: string;
}

/** An OAuth error: its code, its description, the HTTP status. */
export class OAuthFailure extends Error {
  constructor(readonly code: string, message: string, readonly status = 400) {
    super(message);
  }
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
export const random = (bytes = 32) => randomBytes(bytes).toString('base64url');
export const iso = (ms: number) => new Date(ms).toISOString();

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(body));
}

/** A request's body; null as soon as it is over `max` bytes (read no further). */
export async function readCapped(req: IncomingMessage, max: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The body as text; null when it is over MAX_FORM bytes. */
export async function readText(req: IncomingMessage): Promise<string | null> {
  return (await readCapped(req, MAX_FORM))?.toString('utf8') ?? null;
}

export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
