// What connecting a Google or Outlook calendar needs before it can start, all of it at once: the
// OAuth client and where the browser comes back, and for each missing piece every place it can be
// set, because where depends on how tripcal runs (a config file, a shell, Claude Desktop's env).
import type { Config } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import type { OAuthProvider } from './states.js';

interface Need {
  what: string;
  key: string;
  env: string;
  present: boolean;
}

function needs(provider: OAuthProvider, config: Pick<Config, 'google' | 'outlook'>, redirectGiven: boolean): Need[] {
  if (provider === 'google') {
    const g = config.google;
    return [
      { what: 'the OAuth client ID', key: 'client_id', env: 'GOOGLE_CLIENT_ID', present: Boolean(g.client_id) },
      { what: 'the OAuth client secret', key: 'client_secret', env: 'GOOGLE_CLIENT_SECRET', present: Boolean(g.client_secret) },
      { what: 'the redirect URI (or pass redirect_uri)', key: 'redirect_uri', env: 'GOOGLE_REDIRECT_URI', present: redirectGiven || Boolean(g.redirect_uri) },
    ];
  }
  const o = config.outlook;
  return [
    { what: 'the application (client) ID', key: 'client_id', env: 'MS_CLIENT_ID', present: Boolean(o.client_id) },
    { what: 'the redirect URI (or pass redirect_uri)', key: 'redirect_uri', env: 'MS_REDIRECT_URI', present: redirectGiven || Boolean(o.redirect_uri) },
  ];
}

/**
 * Refuses to start a sign-in that cannot finish, naming everything that is missing and, for each
 * way of running tripcal, where to set it. Nothing is changed.
 */
export function requireSetup(provider: OAuthProvider, config: Pick<Config, 'google' | 'outlook'>, redirectGiven: boolean): void {
  const missing = needs(provider, config, redirectGiven).filter((n) => !n.present);
  if (missing.length === 0) return;
  const block = provider === 'google' ? 'google' : 'outlook';
  const name = provider === 'google' ? 'Google Calendar' : 'Outlook';
  const example = (n: Need) => (n.key === 'redirect_uri' ? `http://127.0.0.1:${provider === 'google' ? 8976 : 8977}/oauth/callback` : '…');
  const where = provider === 'google'
    ? 'Google Cloud console → APIs & Services → Credentials (an OAuth client of type "Desktop app" or "Web application")'
    : 'Microsoft Entra admin center → App registrations (a public client with the redirect URI, or a Web app with a secret in MS_CLIENT_SECRET)';
  const lines = [
    `${name} is not set up yet; missing: ${missing.map((n) => `${n.what} (${n.env})`).join(', ')}. Set ${missing.length > 1 ? 'them' : 'it'} in any one of these places, then ask again:`,
    `config.yaml: ${block}: { ${missing.map((n) => `${n.key}: ${example(n)}`).join(', ')} }`,
    `environment of the tripcal process: ${missing.map((n) => `${n.env}=${example(n)}`).join(' ')}`,
    `Claude Desktop: claude_desktop_config.json, in the tripcal server's entry: "env": { ${missing.map((n) => `"${n.env}": "${example(n)}"`).join(', ')} }, then restart Claude Desktop`,
    `The values come from ${where}; the README's "Connect ${provider === 'google' ? 'Google Calendar' : 'Outlook / Microsoft 365'}" shows each step.`,
  ];
  // One problem, its ways out indented under it.
  throw new ConfigError([lines.join('\n    ')]);
}
