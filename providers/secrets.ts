// The vault names of each provider's secrets: what an account stores once it is connected.
// Sync reads them, sign-in writes them, `tripcal auth reset` deletes them.

export const caldavPasswordSecret = (account: string) => `caldav:${account}:password`;
export const googleTokensSecret = (account: string) => `google:${account}:tokens`;
/** MSAL's serialized token cache for an Outlook account (its refresh token inside). */
export const outlookCacheSecret = (account: string) => `outlook:${account}:msal-cache`;
/** Every secret an account may have, whatever its provider. */
export const accountSecrets = (account: string) => [caldavPasswordSecret(account), googleTokensSecret(account), outlookCacheSecret(account)];

/** Where an account's secrets are read and written (the vault, which seals them). */
export interface SecretStore {
  get(name: string): string | null;
  set(name: string, plain: string): void;
}
