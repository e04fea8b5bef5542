// `tripcal auth <provider> [ACCOUNT]` for a provider whose terminal sign-in is `device` (Outlook /
// Microsoft 365): connects an account from a terminal with the device-code flow, so it works on a
// server without a browser: open the page shown on any device, type the code, sign in. The
// provider polls until then; the credentials go to the vault.
import { accountFor, connectorFor, finishSignIn, providerName } from '../auth/connect.js';
import { requireSetup } from '../auth/setup.js';
import { InputError } from '../errors.js';
import { withApp, type GlobalOptions } from './common.js';

export interface AuthDeviceOptions extends GlobalOptions {
  user?: string;
  calendar?: string;
}

export async function authDeviceCommand(provider: string, accountName: string | undefined, options: AuthDeviceOptions): Promise<void> {
  await withApp(options, async (app) => {
    const userId = app.trips.userId(options.user);
    // A device-code sign-in needs no redirect: only the app registration can be missing.
    requireSetup(provider, app.config, true);
    const target = await accountFor(app, provider, userId, accountName, options.calendar);
    const flow = connectorFor(app, provider);
    if (!flow.deviceCode) throw new InputError('provider', `${providerName(provider)} has no sign-in with a code`);
    const signedIn = await flow.deviceCode(target.name, target.calendar, (prompt) => {
      process.stdout.write(`Connecting ${providerName(provider)} (account "${target.name}", user "${userId}").\n\n  ${prompt.message}\n\n`
        + `Waiting for the sign-in (the code is valid for ${Math.round(prompt.expiresInSeconds / 60)} minutes)…\n`);
    });
    const done = await finishSignIn(app, userId, provider, signedIn);
    const lines = done.calendars.map((c) => `  ${c.selected ? '*' : ' '} ${c.name}${c.writable ? '' : ' (read only)'}${c.primary ? ' [default]' : ''}`);
    process.stdout.write(`Connected account "${done.account}"${signedIn.username ? ` as ${signedIn.username}` : ''}; `
      + `the sign-in is stored encrypted with the key from ${app.vault.keySource()}.\n`
      + (lines.length ? `Calendars (* = where trips go):\n${lines.join('\n')}\n` : '')
      + (done.calendarsError ? `Could not list the calendars: ${done.calendarsError}\n` : '')
      + `Sync: ${done.sync.message}\n`);
  });
}
