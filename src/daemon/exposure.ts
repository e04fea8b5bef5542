// Where the daemon listens and who may talk to it: the listen address, whether it is loopback
// (decided from the addresses its name resolves to, never from its spelling), the start-up
// refusals (reachable without a token; a public URL without a token), and origins as browsers
// send them.
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ConfigError } from '../errors.js';

export interface Listen {
  host: string;
  port: number;
  /** Whether every address the host resolves to is a loopback address (127.0.0.0/8, ::1). */
  loopback?: boolean;
  /** The address bound: the host itself if it is an address, else the first it resolved to. */
  address?: string;
}

export function parseListen(listen: string): Listen {
  const at = listen.lastIndexOf(':');
  return { host: listen.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(listen.slice(at + 1)) };
}

/** Whether an IP address (v4, v6, v4-mapped v6) is a loopback address. Names are not addresses. */
export function isLoopbackAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return address.startsWith('127.');
  if (family !== 6) return false;
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1).toLowerCase();
  if (canonical === '::1') return true;
  // ::ffff:127.x.y.z, which URL writes as ::ffff:7fxx:xxxx
  return /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(canonical);
}

export type Lookup = (host: string) => Promise<string[]>;
const systemLookup: Lookup = async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Where a listen host really is: the addresses it resolves to (an address stands for itself) and
 * whether all of them are loopback. A name that does not resolve is not loopback.
 */
export async function resolveListenHost(host: string, lookup: Lookup = systemLookup): Promise<{ addresses: string[]; loopback: boolean }> {
  if (isIP(host)) return { addresses: [host], loopback: isLoopbackAddress(host) };
  let addresses: string[] = [];
  try {
    addresses = await lookup(host);
  } catch {
    addresses = [];
  }
  return { addresses, loopback: addresses.length > 0 && addresses.every(isLoopbackAddress) };
}

export interface ListenChecks {
  token: string | undefined;
  publicUrl?: string | undefined;
  lookup?: Lookup;
}

/**
 * Refuses, before anything starts, an address other machines can reach without a token, and a
 * public URL without a token (behind a reverse proxy every request arrives over loopback).
 */
export async function checkListen(listen: string, { token, publicUrl, lookup }: ListenChecks): Promise<Listen> {
  const parsed = parseListen(listen);
  const { addresses, loopback } = await resolveListenHost(parsed.host, lookup);
  if (!loopback && !token) {
    const where = isIP(parsed.host) ? '' : addresses.length ? ` (it resolves to ${addresses.join(', ')})` : ' (it does not resolve here)';
    throw new ConfigError([`http.listen: ${listen}${where} can be reached from other machines, so http.token must be set `
      + '(e.g. token: ${TRIPCAL_HTTP_TOKEN} with TRIPCAL_HTTP_TOKEN=$(openssl rand -hex 32)); or listen on 127.0.0.1']);
  }
  if (publicUrl && !token) {
    throw new ConfigError([`http.public_url: with a public URL (${publicUrl}) requests come through a reverse proxy and look local, `
      + 'so http.token must be set (e.g. token: ${TRIPCAL_HTTP_TOKEN} with TRIPCAL_HTTP_TOKEN=$(openssl rand -hex 32))']);
  }
  return { ...parsed, loopback, address: isIP(parsed.host) ? parsed.host : addresses[0] ?? parsed.host };
}

/** An origin (scheme://host[:port], default port left out) as browsers send it, or undefined. */
export function originOf(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

