// A loopback HTTP proxy between tripcal and a real CalDAV server that misbehaves on purpose:
// 429 with Retry-After, 503, connection resets before or after the server acted (a lost
// answer), slow answers. It also counts the writes the server carried out, and can run a hook
// right after the Nth one (the crash tests kill the syncing process there).
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type Fault = '429' | '503' | 'reset-before' | 'reset-after' | 'delay';

export interface FaultProxy {
  url: string;
  /** Share of requests that get a fault (0 disables faults). */
  rate: number;
  faults: Fault[];
  writes: number;
  requests: number;
  injected: Record<Fault, number>;
  /** Called after the server carried out a write (PUT/DELETE answered 2xx), before the client hears of it. */
  afterWrite: ((count: number) => void) | null;
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
    writes: 0, requests: 0, injected: { '429': 0, '503': 0, 'reset-before': 0, 'reset-after': 0, delay: 0 }, afterWrite: null,
    stop: async () => undefined,
  };

  const forward = (req: IncomingMessage, body: Buffer, res: ServerResponse, fault: Fault | null) => {
    const out = request({
      host: upstream.hostname, port: upstream.port, method: req.method, path: req.url,
      headers: { ...req.headers, host: upstream.host },
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
        const send = () => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          res.end(Buffer.concat(chunks));
        };
        if (fault === 'delay') setTimeout(send, 150);
        else send();
      });
    });
    out.on('error', () => res.socket?.destroy());
    out.end(body);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      proxy.requests += 1;
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
