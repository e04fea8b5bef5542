#!/usr/bin/env node
// The tripcal command line. Each command lives in src/cli/<name>.ts and is loaded only when it
// runs, so `tripcal --version` or `--help` load no database, MCP or calendar code.
import { Command, Option } from 'commander';
import { EXIT, reportError } from './cli/exit.js';
import { log } from './log.js';
import { VERSION } from './version.js';

// A .mcpb host (Claude Desktop) may pass an optional field the user left empty as the literal
// `${user_config.NAME}` instead of "" (see mcpb/manifest.json): such a variable counts as unset.
for (const [name, value] of Object.entries(process.env)) {
  if (value !== undefined && /^\$\{user_config\.[^}]*\}$/.test(value)) delete process.env[name];
}

const program = new Command('tripcal')
  .description('Travel itineraries in SQLite, kept in step with your calendars; an MCP server for AI assistants.')
  .option('--config <file>', 'config file (default: $XDG_CONFIG_HOME/tripcal/config.yaml, else ~/.config/tripcal/config.yaml, when it exists; else built-in defaults)')
  .option('--data-dir <dir>', 'data directory (default: $TRIPCAL_DATA_DIR, else data_dir in the config, else $XDG_DATA_HOME/tripcal, else ~/.local/share/tripcal)')
  .version(VERSION)
  .showHelpAfterError()
  .exitOverride();

// A reader that stops early (`tripcal doctor | head -3`) closes the pipe: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok);
  throw error;
});

/** The servers keep serving everyone else when one request's promise fails unhandled somewhere: it is logged. */
function keepServing(): void {
  process.on('unhandledRejection', (reason) => {
    log.error('unexpected failure (the server keeps running)', { error: reason instanceof Error ? reason.message : String(reason) });
  });
}

const run = <A extends unknown[]>(fn: (...args: A) => Promise<void>) =>
  async (...args: A) => {
    try {
      await fn(...args);
    } catch (error) {
      process.exitCode = reportError(error);
    }
  };

program
  .command('serve')
  .description('run the MCP server over stdio (for Claude Desktop and other MCP clients)')
  .action(run(async (_opts, cmd: Command) => {
    keepServing();
    await (await import('./cli/serve.js')).serve(cmd.optsWithGlobals());
  }));

program
  .command('daemon')
  .description('run all day: background sync on the schedule, MCP over HTTP, the .ics feeds over HTTP, /healthz')
  .option('--replica', 'one more process answering MCP and the feeds over HTTP beside the daemon of this data directory (no background sync of its own)')
  .action(run(async (_opts, cmd: Command) => {
    keepServing();
    await (await import('./cli/daemon.js')).daemonCommand(cmd.optsWithGlobals());
  }));

program
  .command('export')
  .description('write a trip, or with --all every trip, as an .ics file')
  .argument('[trip-id]', 'the trip (see `tripcal list`)')
  .option('--all', 'every trip of the user (what the feed holds)')
  .option('-o, --output <file>', 'write to this file instead of stdout')
  .option('--user <id>', 'whose trips (default: the configured default user)')
  .action(run(async (tripId: string | undefined, _opts, cmd: Command) => (await import('./cli/export.js')).exportCommand(tripId, cmd.optsWithGlobals())));

program
  .command('import')
  .description('add a booking: schema.org reservations in JSON-LD, HTML or an e-mail (.json, .html, .eml); a PDF ticket, Wallet pass (.pkpass), boarding-pass barcode (image or text) or plain e-mail, read by KDE\'s itinerary extractor (libkpimitinerary-bin); or an .ics file\'s events as activities')
  .argument('<file>', 'the .json, .html, .eml, .pdf, .pkpass, image, text or .ics file')
  .option('--trip <id>', 'trip to import into (default: by the events\' dates)')
  .option('--user <id>', 'whose trips (default: the configured default user)')
  .action(run(async (file: string, _opts, cmd: Command) => (await import('./cli/import.js')).importCommand(file, cmd.optsWithGlobals())));

program
  .command('sync')
  .description('make the configured calendars match the trips now')
  .option('--trip <id>', 'only this trip\'s events')
  .option('--account <name>', 'only this account')
  .option('--user <id>', 'only this user\'s accounts')
  .option('--recreate', 'put back events that were deleted in the calendar')
  .addOption(new Option('--resolve <side>', 'settle flagged conflicts').choices(['model', 'remote']))
  .option('--allow-mass-delete', 'go ahead even if many events would be deleted at once')
  .action(run(async (_opts, cmd: Command) => (await import('./cli/sync.js')).syncCommand(cmd.optsWithGlobals())));

const auth = program.command('auth').description('store credentials for a calendar account, encrypted');
auth
  .command('caldav')
  .description('check a CalDAV password and store it in the vault (prompted, or read from stdin)')
  .argument('<account>', 'the account\'s name in the configuration')
  .action(run(async (account: string, _opts, cmd: Command) => (await import('./cli/auth.js')).authCalDavCommand(account, cmd.optsWithGlobals())));

// The rest is set up and run in main(): the bundle is CommonJS (scripts/bundle.mjs says why),
// which has no top-level await.
async function main(): Promise<void> {
  // The providers connected by signing in get their commands from their descriptors (`tripcal auth
  // google`, `tripcal auth outlook`, src/cli/sign-in.ts). The registry is loaded only when `auth` is
  // on the command line, so `tripcal --version` and the other commands start without it.
  if (process.argv.slice(2).includes('auth')) (await import('./cli/sign-in.js')).addSignInCommands(auth, run);

  auth
    .command('reset')
    .description('delete stored credentials: one account\'s (to connect it afresh), or with --all every secret (when the vault key is lost)')
    .argument('[account]', 'the account whose password or tokens to delete')
    .option('--all', 'every secret in the data directory: all accounts\' credentials and the feed links')
    .option('--yes', 'with --all: go ahead (without it, says what would be deleted)')
    .action(run(async (account: string | undefined, _opts, cmd: Command) => (await import('./cli/auth-reset.js')).authResetCommand(account, cmd.optsWithGlobals())));

  const user = program.command('user').description('the people who sign in on the built-in authorization server (http.auth.builtin)');
  user
    .command('passwd')
    .description('set the password NAME signs in with (prompted, or read from stdin); stored as a slow hash')
    .argument('<name>', 'a user of this tripcal (under users: in the config, or default_user)')
    .option('--delete', 'remove the password: NAME can no longer sign in, and connected applications are signed out')
    .action(run(async (name: string, _opts, cmd: Command) => (await import('./cli/user.js')).userPasswdCommand(name, cmd.optsWithGlobals())));

  program
    .command('list')
    .description('list trips with their ids and dates')
    .option('--user <id>', 'whose trips (default: the configured default user)')
    .option('--json', 'print JSON')
    .action(run(async (_opts, cmd: Command) => (await import('./cli/list.js')).listCommand(cmd.optsWithGlobals())));

  program
    .command('backup')
    .description('write a consistent copy of the model to FILE, safe while tripcal runs (the vault key only with --with-key)')
    .argument('<file>', 'where to write the copy (a SQLite database, mode 0600)')
    .option('--with-key', 'also write the vault key to FILE.vault-key (anyone with both can read the calendar credentials)')
    .option('--force', 'replace FILE if it exists')
    .action(run(async (file: string, _opts, cmd: Command) => (await import('./cli/backup.js')).backupCommand(file, cmd.optsWithGlobals())));

  program
    .command('restore')
    .description('put a backup in place of the model (stop the daemon first); the model there is kept beside it')
    .argument('<file>', 'a file written by tripcal backup')
    .option('--key <file>', 'the vault key the backup\'s secrets were encrypted with (FILE.vault-key, or an old vault.key)')
    .option('--force', 'replace the model that is there (kept as tripcal.db.before-restore-…)')
    .option('--drop-secrets', 'restore without the backup\'s secrets when its key is lost (connect the accounts again)')
    .action(run(async (file: string, _opts, cmd: Command) => (await import('./cli/restore.js')).restoreCommand(file, cmd.optsWithGlobals())));

  program
    .command('doctor')
    .description('show the configuration, data directory, database and feeds tripcal uses')
    .option('--json', 'print JSON')
    .action(run(async (_opts, cmd: Command) => (await import('./cli/doctor.js')).doctorCommand(cmd.optsWithGlobals())));

  try {
    if (process.argv.length <= 2) {
      // No command is bad usage (exit 2), as the README says; the help goes where errors go.
      process.stderr.write(program.helpInformation());
      process.exitCode = EXIT.usage;
    } else {
      await program.parseAsync(process.argv);
    }
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') process.exitCode = EXIT.ok;
    else if (code?.startsWith('commander.')) process.exitCode = EXIT.usage;
    else process.exitCode = reportError(error);
  }
}

void main();
