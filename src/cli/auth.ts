// `tripcal auth caldav ACCOUNT`: checks a CalDAV password against the server and stores it
// encrypted in the vault, so the config file need not hold it. The password is read from a
// prompt on a terminal (not echoed) or from standard input (`echo … | tripcal auth caldav home`).
import { createProvider } from '../../providers/registry.js';
import { AuthExpiredError } from '../../providers/types.js';
import { caldavPasswordSecret } from '../auth/vault.js';
import { InputError } from '../errors.js';
import { withApp, type GlobalOptions } from './common.js';
import { prompt, readStdin } from './secret-input.js';

export async function authCalDavCommand(accountName: string, options: GlobalOptions): Promise<void> {
  await withApp(options, async (app) => {
    const account = await app.sync.account(accountName);
    if (account.provider !== 'caldav') throw new InputError('account', `"${accountName}" is not a CalDAV account`);
    const password = process.stdin.isTTY ? await prompt(`Password for ${account.username} at ${account.url}: `) : await readStdin();
    if (!password) throw new InputError('password', 'empty; nothing stored');
    const provider = await createProvider({ kind: 'caldav', url: account.url, username: account.username, password, calendar: account.calendar });
    try {
      await provider.connect();
    } catch (error) {
      if (error instanceof AuthExpiredError) throw new InputError('password', `${error.message}; nothing stored`);
      process.stderr.write(`tripcal: could not reach the server to check the password (${(error as Error).message}); storing it anyway\n`);
    } finally {
      await provider.close();
    }
    await app.vault.set(caldavPasswordSecret(account.name), password);
    process.stdout.write(`Stored the password of account "${account.name}", encrypted with the key from ${app.vault.keySource()}.\n`);
    if (account.password) process.stdout.write('Note: the configuration also sets a password for this account, and that one is used first.\n');
  });
}
