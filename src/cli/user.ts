// `tripcal user passwd NAME`: sets the password NAME signs in with on the built-in authorization
// server's page (http.auth.builtin). Asked twice on a terminal, or read from standard input
// (`printf %s "$PW" | tripcal user passwd alice`); stored as a slow hash (scrypt), never in the
// config file. A new password, or --delete, signs NAME out of every connected application
// (their refresh tokens are revoked; access tokens end within minutes).
import { hashPassword, MIN_PASSWORD_LENGTH } from '../auth/passwords.js';
import { USER_ID } from '../config/schema.js';
import { InputError } from '../errors.js';
import { withApp, type GlobalOptions } from './common.js';
import { prompt, readStdin } from './secret-input.js';

export interface PasswdOptions extends GlobalOptions {
  delete?: boolean;
}

export async function userPasswdCommand(name: string, options: PasswdOptions): Promise<void> {
  await withApp(options, async (app) => {
    const known = new Set([app.config.default_user, ...Object.keys(app.config.users), ...(await app.store.listUsers()).map((u) => u.id)]);
    if (!USER_ID.test(name) || !known.has(name)) {
      throw new InputError('user', `"${name}" is not a user of this tripcal (users: ${[...known].sort().join(', ')}); add it under users: in the config first`);
    }
    const rows = app.store.authServer;
    const now = new Date().toISOString();
    if (options.delete) {
      const had = await rows.deletePassword(name, now);
      process.stdout.write(had ? `Removed the password of "${name}": they cannot sign in any more, and connected applications are signed out.\n` : `"${name}" had no password; nothing changed.\n`);
      return;
    }
    let password: string;
    if (process.stdin.isTTY) {
      password = await prompt(`New password for ${name}: `);
      if (password.length >= MIN_PASSWORD_LENGTH && await prompt('Again: ') !== password) throw new InputError('password', 'the two did not match; nothing changed');
    } else {
      password = await readStdin();
    }
    if (password.length < MIN_PASSWORD_LENGTH) throw new InputError('password', `at least ${MIN_PASSWORD_LENGTH} characters; nothing changed`);
    if (password.length > 1024) throw new InputError('password', 'at most 1024 characters; nothing changed');
    const replaced = (await rows.passwordHash(name)) !== undefined;
    await rows.setPasswordHash(name, await hashPassword(password), now);
    const signedOut = replaced ? await rows.revokeUser(name, now) : 0;
    process.stdout.write(`${replaced ? 'Changed' : 'Set'} the password of "${name}" (stored as a scrypt hash).`
      + `${signedOut ? ` ${signedOut} connected application${signedOut === 1 ? ' was' : 's were'} signed out.` : ''}`
      + `${app.config.http.auth?.builtin ? '' : ' It is used by the built-in sign-in page, which is on with http.auth: { builtin: true }.'}\n`);
  });
}
