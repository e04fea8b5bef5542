// A loopback HTTP proxy between tripcal and a real CalDAV server that misbehaves on purpose:
// 429 with Retry-After, 503, connection resets before or after the server acted (a lost
// answer), slow answers. It also logs the requests, counts the writes the server carried out,
// and can run a hook right after the Nth one (the crash tests kill the syncing process there).
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type Fault = '429' | '503' | 'reset-before' | 'reset-after' | 'delay';

export interface FaultProxy {
  url: string;
  /** Share of requests that get a fault (0 disables faults). */
  rate: number;
  faults: Fault[];
  writes: number;
  requests: number;
  /** Every request received, as `METHOD /path`, in order. */
  log: string[];
  injected: Record<Fault, number>;
  /** Called after the server carried out a write (PUT/DELETE answered 2xx), before the client hears of it. */
  afterWrite: ((count: number) => void) | null;
  /**
   * When set, sync-collection answers hold at most this many changes, with a 507 for the
   * collection and a continuation token (RFC 6578 §3.6), as Sabre/Nextcloud do.
   */
  truncateSyncAt: number | null;
  truncatedAnswers: number;
  stop: () => Promise<void>;
}

/** A small seeded generator, so a failing run can be repeated. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function startFaultProxy(target: string, options: { rate?: number; faults?: Fault[]; seed?: number } = {}): Promise<FaultProxy> {
  const upstream = new URL(target);
  const next = random(options.seed ?? 42);
  const proxy: FaultProxy = {
    url: '', rate: options.rate ?? 0, faults: options.faults ?? ['429', '503', 'reset-before', 'reset-after', 'delay'],
    writes: 0, requests: 0, log: [], injected: { '429': 0, '503': 0, 'reset-before': 0, 'reset-after': 0, delay: 0 }, afterWrite: null,
    truncateSyncAt: null, truncatedAnswers: 0,
    stop: async () => undefined,
  };

  const forward = (req: IncomingMessage, requestBody: Buffer, res: ServerResponse, fault: Fault | null) => {
    // Truncation: our continuation tokens are `trunc:<offset>:<server token>`.
    let body = requestBody;
    let skip = 0;
    const isSync = req.method === 'REPORT' && body.includes('sync-collection');
    if (isSync && proxy.truncateSyncAt !== null) {
      const m = /trunc:(\d+):([^<]*)/.exec(body.toString('utf8'));
      if (m) {
        skip = Number(m[1]);
        body = Buffer.from(body.toString('utf8').replace(m[0], m[2]!));
      }
    }
    const out = request({
      host: upstream.hostname, port: upstream.port, method: req.method, path: req.url,
      // Uncompressed answers, so the truncation below can read them.
      headers: { ...req.headers, host: upstream.host, 'accept-encoding': 'identity', 'content-length': String(body.length) },
    }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        const isWrite = (req.method === 'PUT' || req.method === 'DELETE') && (up.statusCode ?? 500) < 300;
        if (isWrite) {
          proxy.writes += 1;
          proxy.afterWrite?.(proxy.writes);
        }
        if (fault === 'reset-after') {
          res.socket?.destroy();
          return;
        }
        let answer = Buffer.concat(chunks);
        if (isSync && proxy.truncateSyncAt !== null && up.statusCode === 207) answer = truncate(answer, req.url ?? '/', body.toString('utf8'), skip);
        const send = () => {
          const headers = { ...up.headers };
          delete headers['content-length'];
          res.writeHead(up.statusCode ?? 502, headers);
          res.end(answer);
        };
        if (fault === 'delay') setTimeout(send, 150);
        else send();
      });
    });
    out.on('error', () => res.socket?.destroy());
    out.end(body);
  };

  const truncate = (answer: Buffer, path: string, requestBody: string, skip: number): Buffer => {
    const text = answer.toString('utf8');
    const responses = text.match(/<(?:\w+:)?response>[\s\S]*?<\/(?:\w+:)?response>/g) ?? [];
    const limit = proxy.truncateSyncAt!;
    if (responses.length - skip <= limit) {
      if (skip === 0) return answer;
      return Buffer.from(text.replace(/<(?:\w+:)?response>[\s\S]*<\/(?:\w+:)?response>/, responses.slice(skip).join('')));
    }
    proxy.truncatedAnswers += 1;
    const sent = /<(?:\w+:)?sync-token>([^<]*)</.exec(requestBody)?.[1] ?? '';
    const kept = responses.slice(skip, skip + limit).join('');
    const marker = `<response><href>${path}</href><status>HTTP/1.1 507 Insufficient Storage</status><error><number-of-matches-within-limits/></error></response>`;
    return Buffer.from(text
      .replace(/<(?:\w+:)?response>[\s\S]*<\/(?:\w+:)?response>/, `${kept}${marker}`)
      .replace(/(<(?:\w+:)?sync-token>)[^<]*(<)/, `$1trunc:${skip + limit}:${sent}$2`));
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      proxy.requests += 1;
      proxy.log.push(`${req.method} ${req.url}`);
      const fault = proxy.rate > 0 && next() < proxy.rate ? proxy.faults[Math.floor(next() * proxy.faults.length)]! : null;
      if (fault) proxy.injected[fault] += 1;
      if (fault === '429') {
        res.writeHead(429, { 'retry-after': next() < 0.5 ? '0' : '1', 'content-type': 'text/plain' });
        res.end('Too Many Requests');
      } else if (fault === '503') {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('Service Unavailable');
      } else if (fault === 'reset-before') {
        req.socket.destroy();
      } else {
        forward(req, Buffer.concat(chunks), res, fault);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  proxy.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  proxy.stop = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return proxy;
}
