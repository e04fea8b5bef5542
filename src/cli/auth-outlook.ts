// `tripcal auth outlook [ACCOUNT]`: connects an Outlook / Microsoft 365 account from a terminal
// with the device-code flow, so it works on a server without a browser: open the page shown on
// any device, type the code, sign in. MSAL polls until then; the token cache goes to the vault.
import { accountFor, finishOutlook, outlookConnector } from '../auth/connect.js';
import { requireSetup } from '../auth/setup.js';
import { withApp, type GlobalOptions } from './common.js';

export interface AuthOutlookOptions extends GlobalOptions {
  user?: string;
  calendar?: string;
}

export async function authOutlookCommand(accountName: string | undefined, options: AuthOutlookOptions): Promise<void> {
  await withApp(options, async (app) => {
    const userId = app.trips.userId(options.user);
    // A device-code sign-in needs no redirect: only the app registration can be missing.
    requireSetup('outlook', app.config, true);
    const target = accountFor(app, 'outlook', userId, accountName, options.calendar);
    const signedIn = await outlookConnector(app).deviceCode(target.name, target.calendar, (prompt) => {
      process.stdout.write(`Connecting Outlook (account "${target.name}", user "${userId}").\n\n  ${prompt.message}\n\n`
        + `Waiting for the sign-in (the code is valid for ${Math.round(prompt.expiresInSeconds / 60)} minutes)…\n`);
    });
    const done = await finishOutlook(app, userId, signedIn);
    const lines = done.calendars.map((c) => `  ${c.selected ? '*' : ' '} ${c.name}${c.writable ? '' : ' (read only)'}${c.primary ? ' [default]' : ''}`);
    process.stdout.write(`Connected account "${done.account}"${signedIn.username ? ` as ${signedIn.username}` : ''}; `
      + `the sign-in is stored encrypted with the key from ${app.vault.keySource()}.\n`
      + (lines.length ? `Calendars (* = where trips go):\n${lines.join('\n')}\n` : '')
      + (done.calendarsError ? `Could not list the calendars: ${done.calendarsError}\n` : '')
      + `Sync: ${done.sync.message}\n`);
  });
}
