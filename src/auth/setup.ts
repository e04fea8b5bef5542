// What connecting an OAuth calendar needs before it can start, all of it at once: the OAuth client
// and where the browser comes back (each provider's descriptor says which), and for each missing
// piece every place it can be set, because where depends on how tripcal runs (a config file, a
// shell, Claude Desktop's env).
import type { SetupNeed } from '../../providers/oauth.js';
import { descriptorOf, type ClientConfigs } from '../../providers/registry.js';
import { ConfigError } from '../errors.js';

/**
 * Refuses to start a sign-in that cannot finish, naming everything that is missing and, for each
 * way of running tripcal, where to set it. Nothing is changed.
 */
export function requireSetup(provider: string, config: ClientConfigs, redirectGiven: boolean): void {
  const descriptor = descriptorOf(provider);
  const setup = descriptor.signInSetup;
  if (!setup) return;
  const missing = setup.needs(config, redirectGiven).filter((n) => !n.present);
  if (missing.length === 0) return;
  const example = (n: SetupNeed) => (n.key === 'redirect_uri' ? setup.exampleRedirect : '…');
  const lines = [
    `${descriptor.title} is not set up yet; missing: ${missing.map((n) => `${n.what} (${n.env})`).join(', ')}. Set ${missing.length > 1 ? 'them' : 'it'} in any one of these places, then ask again:`,
    `config.yaml: ${setup.block}: { ${missing.map((n) => `${n.key}: ${example(n)}`).join(', ')} }`,
    `environment of the tripcal process: ${missing.map((n) => `${n.env}=${example(n)}`).join(' ')}`,
    `Claude Desktop: claude_desktop_config.json, in the tripcal server's entry: "env": { ${missing.map((n) => `"${n.env}": "${example(n)}"`).join(', ')} }, then restart Claude Desktop`,
    `The values come from ${setup.where}; the README's "${setup.readme}" shows each step.`,
  ];
  // One problem, its ways out indented under it.
  throw new ConfigError([lines.join('\n    ')]);
}
