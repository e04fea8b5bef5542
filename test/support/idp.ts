// A loopback identity provider for the MCP authorization tests: OpenID metadata and a JWKS at
// their well-known places (OpenID Connect Discovery 1.0; RFC 8414 for the issuer rule), and
// access tokens signed with its own key (RFC 9068 JWT access tokens: iss, aud, exp, sub, scope).
// It imports nothing of tripcal: tokens are made here, with jose, as a real provider would.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

export interface TestIdp {
  issuer: string;
  /** Requests for the key set (a key rotation makes tripcal fetch it again). */
  jwksFetches: number;
  mint(claims: Record<string, unknown>, options?: { audience?: string; expiresIn?: string | number; issuer?: string; key?: 'own' | 'stranger' }): Promise<string>;
  /** A new signing key (the old one stays published too, as providers do during a rotation). */
  rotate(): Promise<void>;
  stop(): Promise<void>;
}

export async function startIdp(audience: string): Promise<TestIdp> {
  let current = await generateKeyPair('ES256');
  const stranger = await generateKeyPair('ES256');
  const published: JWK[] = [];
  const publish = async (pair: typeof current, kid: string) => published.push({ ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' });
  let kid = 'key-1';
  await publish(current, kid);
  let fetches = 0;
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks`, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token` }));
    } else if (req.url === '/jwks') {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    get jwksFetches() {
      return fetches;
    },
    async mint(claims, options = {}) {
      const signer = options.key === 'stranger' ? stranger : current;
      return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: options.key === 'stranger' ? kid : kid, typ: 'at+jwt' })
        .setIssuer(options.issuer ?? issuer).setAudience(options.audience ?? audience).setIssuedAt()
        .setExpirationTime(options.expiresIn ?? '5m').sign(signer.privateKey);
    },
    async rotate() {
      current = await generateKeyPair('ES256');
      kid = `key-${published.length + 1}`;
      await publish(current, kid);
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
