// OAuth Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; MCP's
// preferred way for a client to introduce itself): the client_id is an https URL, and the
// document at that URL is the client's registration. Fetching a URL a stranger chose is a
// server-side request forgery risk, so the fetch is narrow: https only, a host that resolves to
// public addresses only (unless the configuration allows private ones), the connection made to
// the address that was checked (no second DNS answer), no redirects, a 5 KB cap, a 5 s limit. A
// document is kept for the time its Cache-Control allows (one minute to a day; ten minutes
// without one), so a sign-in and its token requests fetch it once.
import { lookup } from 'node:dns/promises';
import { request } from 'node:https';
import { BlockList, isIP } from 'node:net';
import { log } from '../log.js';
import { OAuthFailure, type ClientMetadata } from './oauth-common.js';
import { metadataOf } from './oauth-clients.js';

const MAX_BYTES = 5 * 1024;
const TIMEOUT_MS = 5_000;
const MIN_CACHE_S = 60;
const MAX_CACHE_S = 86_400;
const DEFAULT_CACHE_S = 600;
const MAX_CACHED = 1_000;

/** Addresses that are not the public internet: loopback, private, link-local, CGNAT, ULA, multicast, unspecified. */
const PRIVATE = new BlockList();
for (const [net, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 3]] as const) PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['::ffff:0:0', 96]] as const) PRIVATE.addSubnet(net, prefix, 'ipv6');

export interface DocumentOptions {
  /** Fetch documents from hosts on private addresses too (an intranet client, tests on loopback). */
  allowPrivateHosts: boolean;
  now?: () => number;
}

/** Why a client_id URL may not name a document (draft §3), or null. */
function urlProblem(clientId: string): string | null {
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'https:') return 'must be an https URL';
  if (url.username || url.password) return 'must not carry credentials';
  if (url.hash || clientId.includes('#')) return 'must not have a fragment';
  if (url.pathname === '/' || url.pathname === '') return 'must have a path';
  if (clientId.split(/[?#]/)[0]!.split('/').some((segment) => segment === '.' || segment === '..')) return 'must not have . or .. path segments';
  if (url.href !== clientId) return 'must be written in its normal form';
  return null;
}

export class ClientDocuments {
  private readonly cache = new Map<string, { metadata: ClientMetadata; until: number }>();
  private readonly now: () => number;

  constructor(private readonly options: DocumentOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Whether a client_id names a metadata document: an https URL with a path. */
  names(clientId: string): boolean {
    return /^https:\/\/[^/?#]+\/[^#]*$/.test(clientId);
  }

  /** The registration the document at `clientId` makes, or an OAuthFailure (invalid_client) saying why not. */
  async get(clientId: string): Promise<ClientMetadata> {
    const cached = this.cache.get(clientId);
    if (cached && cached.until > this.now()) return cached.metadata;
    const problem = urlProblem(clientId);
    if (problem) throw new OAuthFailure('invalid_client', `client_id ${problem} (a Client ID Metadata Document URL)`);
    const { body, maxAge } = await this.fetch(new URL(clientId));
    let document: Record<string, unknown>;
    try {
      const parsed = JSON.parse(body) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      document = parsed as Record<string, unknown>;
    } catch {
      throw new OAuthFailure('invalid_client', 'the client metadata document is not a JSON object');
    }
    if (document.client_id !== clientId) throw new OAuthFailure('invalid_client', 'the client metadata document names another client_id than its own URL');
    if ('client_secret' in document || 'client_secret_expires_at' in document) {
      throw new OAuthFailure('invalid_client', 'a client metadata document must not hold a client secret');
    }
    const method = document.token_endpoint_auth_method;
    if (method !== undefined && method !== 'none') {
      throw new OAuthFailure('invalid_client', `token_endpoint_auth_method "${String(method)}" is not offered (public clients only: "none")`);
    }
    let metadata: ClientMetadata;
    try {
      metadata = metadataOf(document);
    } catch (error) {
      if (!(error instanceof OAuthFailure)) throw error;
      throw new OAuthFailure('invalid_client', `the client metadata document: ${error.message}`);
    }
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(clientId, { metadata, until: this.now() + maxAge * 1000 });
    log.info('read a client metadata document', { client_id: clientId, redirect_uris: metadata.redirect_uris.length });
    return metadata;
  }

  /** The address to connect to: the host's, checked; an OAuthFailure when it is private and that is not allowed. */
  private async address(host: string): Promise<{ address: string; family: number }> {
    const bare = host.replace(/^\[|\]$/g, '');
    let addresses: Array<{ address: string; family: number }>;
    try {
      addresses = isIP(bare) ? [{ address: bare, family: isIP(bare) }] : await lookup(bare, { all: true });
    } catch {
      throw new OAuthFailure('invalid_client', `the host of the client_id (${host}) does not resolve`);
    }
    const isPrivate = (a: { address: string; family: number }) => PRIVATE.check(a.address, a.family === 6 ? 'ipv6' : 'ipv4');
    if (!this.options.allowPrivateHosts && addresses.some(isPrivate)) {
      throw new OAuthFailure('invalid_client', `the host of the client_id (${host}) is on a private or loopback address; `
        + 'tripcal fetches client metadata documents from public hosts only (http.auth.client_metadata_private_hosts allows others)');
    }
    return addresses[0]!;
  }

  private async fetch(url: URL): Promise<{ body: string; maxAge: number }> {
    const target = await this.address(url.hostname);
    return new Promise((resolve, reject) => {
      const fail = (why: string) => reject(new OAuthFailure('invalid_client', `the client metadata document could not be read: ${why}`));
      // The whole answer within the limit, not only each silence in it.
      const timer = setTimeout(() => {
        req.destroy();
        fail(`${url.host} did not answer within ${TIMEOUT_MS / 1000} s`);
      }, TIMEOUT_MS);
      const req = request(url, {
        method: 'GET', headers: { accept: 'application/json' },
        // The checked address, not a second lookup that could answer differently.
        lookup: (_host, _options, callback) => callback(null, [{ address: target.address, family: target.family }]),
      }, (res) => {
        if (res.statusCode !== 200) {
          clearTimeout(timer);
          res.resume();
          return fail(`${url.host} answered ${res.statusCode}${res.statusCode && res.statusCode >= 300 && res.statusCode < 400 ? ' (redirects are not followed)' : ''}`);
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BYTES) {
            clearTimeout(timer);
            req.destroy();
            return fail(`it is over ${MAX_BYTES} bytes`);
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          clearTimeout(timer);
          if (size <= MAX_BYTES) resolve({ body: Buffer.concat(chunks).toString('utf8'), maxAge: cacheSeconds(res.headers['cache-control']) });
        });
        res.on('error', (error) => fail(error.message));
      });
      req.on('error', (error) => {
        clearTimeout(timer);
        fail(error.message);
      });
      req.end();
    });
  }
}

/** How long a document may be kept: its max-age, within bounds; no-store or no-cache keep it the least. */
function cacheSeconds(header: string | undefined): number {
  if (!header) return DEFAULT_CACHE_S;
  if (/\bno-(store|cache)\b/i.test(header)) return MIN_CACHE_S;
  const age = /\bmax-age=(\d+)/i.exec(header);
  return age ? Math.min(MAX_CACHE_S, Math.max(MIN_CACHE_S, Number(age[1]))) : DEFAULT_CACHE_S;
}
