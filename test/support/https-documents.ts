// An HTTPS server on loopback (the test certificate of test/support/tls, for localhost and
// 127.0.0.1, trusted through NODE_EXTRA_CA_CERTS) that serves fixed documents by path and counts
// who asked: a client's metadata document, and the ways one can be wrong.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface Served {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Never answer (a host that hangs). */
  hang?: boolean;
}

export interface DocumentServer {
  url: string;
  hits: Map<string, number>;
  serve(path: string, answer: Served): void;
  stop(): Promise<void>;
}

const TLS = new URL('./tls/', import.meta.url);

export async function startDocumentServer(): Promise<DocumentServer> {
  const routes = new Map<string, Served>();
  const hits = new Map<string, number>();
  const server = createServer({ key: readFileSync(new URL('key.pem', TLS)), cert: readFileSync(new URL('cert.pem', TLS)) }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const answer = routes.get(path);
    if (answer?.hang) return;
    if (!answer) return res.writeHead(404).end();
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers }).end(answer.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    serve: (path, answer) => routes.set(path, answer),
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
