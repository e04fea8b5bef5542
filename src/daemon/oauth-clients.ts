// Client registration for the built-in authorization server: RFC 7591 dynamic registration of
// public clients (no secret; PKCE protects the code). Redirect URIs must be https, or http on a
// loopback address (RFC 8252 §7.3), without a fragment; /authorize matches them exactly.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { log } from '../log.js';
import type { AuthServerRows } from '../store/oauth-server.js';
import type { ClientDocuments } from './oauth-client-documents.js';
import { iso, json, MAX_FORM, OAuthFailure, random, readText, type ClientMetadata } from './oauth-common.js';

const MAX_CLIENTS = 10_000;

function isLoopbackHost(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === '[::1]' || hostname === 'localhost' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** A redirect URI a client may register: https, or http on loopback; absolute, no fragment. */
function redirectProblem(uri: unknown): string | null {
  if (typeof uri !== 'string' || uri.length > 2000) return 'each redirect URI is a string of at most 2000 characters';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `"${uri.slice(0, 100)}" is not an absolute URL`;
  }
  if (url.hash || uri.includes('#')) return `"${uri}" has a fragment (RFC 6749 §3.1.2)`;
  if (url.username || url.password) return `"${uri}" carries credentials`;
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return null;
  return `"${uri}" is neither https nor http on a loopback address (127.0.0.1, [::1], localhost)`;
}

export class Clients {
  constructor(
    private readonly rows: AuthServerRows,
    private readonly now: () => number,
    /** Client ID Metadata Documents, when they are accepted: a client_id that is an https URL. */
    private readonly documents: ClientDocuments | null = null,
    /** Clients of tripcal's own, registered by no one (the status page). */
    private readonly own: ReadonlyMap<string, ClientMetadata> = new Map(),
  ) {}

  /**
   * A registered client, or undefined; a client_id that is an https URL is read from its metadata
   * document (an OAuthFailure says why it cannot be).
   */
  async get(id: string | undefined | null): Promise<ClientMetadata | undefined> {
    if (!id || id.length > 2000) return undefined;
    const own = this.own.get(id);
    if (own) return own;
    if (this.documents?.names(id)) return this.documents.get(id);
    if (id.length > 200) return undefined;
    const row = await this.rows.client(id);
    return row ? JSON.parse(row.metadata) as ClientMetadata : undefined;
  }

  async register(req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): Promise<void> {
    const text = await readText(req);
    let body: Record<string, unknown>;
    try {
      if (text === null) throw new OAuthFailure('invalid_client_metadata', `the registration is over ${MAX_FORM} bytes`);
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new OAuthFailure('invalid_client_metadata', 'the registration is a JSON object');
      body = parsed as Record<string, unknown>;
      const metadata = metadataOf(body);
      if ((await this.rows.clientCount()) >= MAX_CLIENTS) throw new OAuthFailure('invalid_client_metadata', `this server holds ${MAX_CLIENTS} client registrations, its limit`);
      const clientId = `tc-${random(18)}`;
      const issuedAt = this.now();
      await this.rows.insertClient({ client_id: clientId, metadata: JSON.stringify(metadata), created_at: iso(issuedAt) });
      log.info('an OAuth client registered', { client_id: clientId, redirect_uris: metadata.redirect_uris.length });
      json(res, 201, { client_id: clientId, client_id_issued_at: Math.floor(issuedAt / 1000), ...metadata }, headers);
    } catch (error) {
      if (error instanceof SyntaxError) {
        json(res, 400, { error: 'invalid_client_metadata', error_description: 'the registration is not JSON' }, headers);
        return;
      }
      if (!(error instanceof OAuthFailure)) throw error;
      json(res, 400, { error: error.code, error_description: error.message }, headers);
    }
  }
}

/** What a client may register (or its metadata document says), checked and trimmed. */
export function metadataOf(body: Record<string, unknown>): ClientMetadata {
  const uris = body.redirect_uris;
  if (!Array.isArray(uris) || uris.length === 0 || uris.length > 10) throw new OAuthFailure('invalid_redirect_uri', 'redirect_uris: one to ten redirect URIs');
  for (const uri of uris) {
    const problem = redirectProblem(uri);
    if (problem) throw new OAuthFailure('invalid_redirect_uri', problem);
  }
  const grants = body.grant_types === undefined ? ['authorization_code', 'refresh_token'] : body.grant_types;
  if (!Array.isArray(grants) || grants.some((g) => g !== 'authorization_code' && g !== 'refresh_token') || !grants.includes('authorization_code')) {
    throw new OAuthFailure('invalid_client_metadata', 'grant_types: authorization_code, and refresh_token if wanted (no other grant is offered)');
  }
  const responses = body.response_types === undefined ? ['code'] : body.response_types;
  if (!Array.isArray(responses) || responses.some((r) => r !== 'code')) throw new OAuthFailure('invalid_client_metadata', 'response_types: only "code"');
  const text = (value: unknown, max: number) => (typeof value === 'string' ? value.replace(/[\p{Cc}\p{Cf}]/gu, '').slice(0, max) : undefined);
  const metadata: ClientMetadata = {
    redirect_uris: uris as string[],
    grant_types: [...new Set(grants as string[])],
    response_types: ['code'],
    // Public clients only (RFC 7591 §3.2.1 lets the server say what it registered instead):
    // a secret kept by an assistant's client would protect nothing PKCE does not.
    token_endpoint_auth_method: 'none',
  };
  const name = text(body.client_name, 100);
  if (name) metadata.client_name = name;
  const scope = text(body.scope, 200);
  if (scope) metadata.scope = scope;
  const softwareId = text(body.software_id, 100);
  if (softwareId) metadata.software_id = softwareId;
  const softwareVersion = text(body.software_version, 50);
  if (softwareVersion) metadata.software_version = softwareVersion;
  return metadata;
}
