// `tripcal auth <provider>` for every provider connected by signing in, made from its descriptor:
// which of the two terminal flows it uses (a loopback redirect, src/cli/auth-loopback.ts, or a
// device code, src/cli/auth-device.ts) and the words of its help. A new OAuth provider gets its
// command from its folder alone.
import type { Command } from 'commander';
import type { TerminalSignIn } from '../../providers/oauth.js';
import { PROVIDERS } from '../../providers/registry.js';

type Action = (account: string | undefined, options: Record<string, unknown>, cmd: Command) => Promise<void>;

/** What each flow does, for the help ("connect a Google account: prints a URL …"), and whether it takes --port. */
const FLOWS: Record<TerminalSignIn['flow'], { does: string; port: boolean }> = {
  loopback: { does: ': prints a URL to open, and finishes by itself when the browser comes back to 127.0.0.1', port: true },
  device: { does: ' with a code: open the page shown on any device, type the code, sign in (works on a server)', port: false },
};

/** Adds the sign-in commands under `auth`; `run` wraps each action the way every command's is (exit codes). */
export function addSignInCommands(auth: Command, run: (action: Action) => Action): void {
  for (const descriptor of PROVIDERS) {
    const terminal = descriptor.terminalSignIn;
    if (!terminal) continue;
    const kind = descriptor.kind;
    const command = auth
      .command(kind)
      .description(`connect ${terminal.connects}${FLOWS[terminal.flow].does}`)
      .argument('[account]', `the account's name (default: the user's ${terminal.accountOf} account in the configuration, else "${kind}")`)
      .option('--user <id>', 'whose calendar (default: the configured default user)');
    if (FLOWS[terminal.flow].port) command.option('--port <n>', 'the loopback port for the redirect (default: a free one)');
    command
      .option('--calendar <name>', `where trips go: primary (${terminal.primary}), a calendar id, or a name to find or make (accounts not in the config file)`)
      .action(run(async (account, _opts, cmd) => {
        if (terminal.flow === 'loopback') await (await import('./auth-loopback.js')).authLoopbackCommand(kind, account, cmd.optsWithGlobals());
        else await (await import('./auth-device.js')).authDeviceCommand(kind, account, cmd.optsWithGlobals());
      }));
  }
}
