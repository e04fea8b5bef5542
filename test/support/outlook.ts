// Signing in to the Graph fake the way a user would (auth code + PKCE through msal-node), so tests
// start from a real MSAL token cache, and an Outlook provider on it.
import type { OutlookSettings } from '../../providers/registry.js';
import { OutlookProvider } from '../../providers/outlook/provider.js';
import { cachePlugin, msalClient, OUTLOOK_SCOPES } from '../../providers/outlook/session.js';
import type { GraphFake } from './graph-fake.js';

export interface CacheBox {
  cache: string | null;
  saves: number;
}

/** Runs the authorization-code flow against the fake; the token cache lands in the box. */
export async function signIn(fake: GraphFake, box: CacheBox = { cache: null, saves: 0 }): Promise<CacheBox> {
  const plugin = cachePlugin(async () => box.cache, async (cache) => {
    box.cache = cache;
    box.saves += 1;
  });
  const app = await msalClient({ clientId: fake.clientId, tenantId: fake.tenant, authority: fake.authority }, plugin);
  const { CryptoProvider } = await import('@azure/msal-node');
  const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
  const redirectUri = 'http://127.0.0.1:53682/callback';
  const url = await app.getAuthCodeUrl({ scopes: OUTLOOK_SCOPES, redirectUri, codeChallenge: challenge, codeChallengeMethod: 'S256', state: 'test' });
  const res = await fetch(url, { redirect: 'manual' });
  const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
  await app.acquireTokenByCode({ code, redirectUri, codeVerifier: verifier, scopes: OUTLOOK_SCOPES });
  return box;
}

export function outlookSettings(fake: GraphFake, box: CacheBox, extra: Partial<OutlookSettings> = {}): OutlookSettings {
  return {
    kind: 'outlook', calendar: 'primary', clientId: fake.clientId, tenantId: fake.tenant,
    tokenCache: async () => box.cache, saveCache: async (cache) => {
      box.cache = cache;
      box.saves += 1;
    },
    authority: fake.authority, graphUrl: fake.graphUrl, ...extra,
  };
}

export async function outlookProvider(fake: GraphFake, extra: Partial<OutlookSettings> = {}): Promise<{ provider: OutlookProvider; box: CacheBox }> {
  const box = await signIn(fake);
  const provider = new OutlookProvider(outlookSettings(fake, box, extra));
  await provider.connect();
  return { provider, box };
}
