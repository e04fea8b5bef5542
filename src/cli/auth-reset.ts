// `tripcal auth reset ACCOUNT | --all`: the way out when secrets cannot be used any more (the
// vault key was lost, or an account should be connected afresh). It needs no key: it deletes.
// With --all every secret goes, feed links included, so it asks for --yes first.
import { accountSecrets, RESET_HINT } from '../auth/vault.js';
import { InputError } from '../errors.js';
import { EXIT, withApp, type GlobalOptions } from './common.js';

export interface ResetOptions extends GlobalOptions {
  all?: boolean;
  yes?: boolean;
}

export async function authResetCommand(accountName: string | undefined, options: ResetOptions): Promise<void> {
  if (!accountName && !options.all) throw new InputError('account', 'name the account whose secrets to delete, or pass --all (with --yes) for every secret');
  if (accountName && options.all) throw new InputError('account', 'give an account or --all, not both');
  await withApp(options, async (app) => {
    const status = await app.vault.status();
    if (options.all) {
      if (status.secrets === 0) {
        process.stdout.write(`${app.dataDir} holds no secrets; nothing to delete.\n`);
        return;
      }
      if (!options.yes) {
        process.stdout.write(`This deletes ${status.secrets === 1 ? 'the one secret' : `all ${status.secrets} secrets`} in ${app.dataDir}: every calendar account's password or tokens `
          + '(each must be connected again) and every feed link (calendar apps subscribed to one must subscribe to the new one).\n'
          + (status.state === 'ok' ? 'The current key still opens them: nothing is lost yet.\n' : `Why you may need it: ${status.detail}\n`)
          + 'Run it again with --yes to go ahead.\n');
        process.exitCode = EXIT.usage;
        return;
      }
      const removed = await app.vault.reset({ all: true });
      process.stdout.write(`Deleted ${removed.length} secret${removed.length === 1 ? '' : 's'}. `
        + `The next one stored is encrypted with the key from ${app.vault.keySource()}. Connect your accounts again `
        + '(tripcal auth caldav|google|outlook ACCOUNT); the feed links are new (tripcal daemon prints them).\n');
      return;
    }
    const account = (await app.sync.accounts()).find((a) => a.name === accountName);
    const known = account !== undefined;
    const removed = await app.vault.reset({ names: accountSecrets(accountName!) });
    if (!known && removed.length === 0) throw new InputError('account', `"${accountName}" is neither a configured or connected account nor has stored secrets`);
    process.stdout.write(removed.length
      ? `Deleted the stored credentials of "${accountName}". Connect it again with tripcal auth ${account?.provider ?? 'caldav|google|outlook'} ${accountName}.\n`
      : `"${accountName}" had no stored credentials; nothing to delete.\n`);
    if (status.state === 'wrong_key' || status.state === 'key_missing') {
      process.stdout.write(`Other secrets are still locked by the lost key: ${RESET_HINT}\n`);
    }
  });
}
