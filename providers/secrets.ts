// The vault names of each provider's secrets, as the provider folders define them, in one place
// for the callers that name them (sign-in writes them, `tripcal auth reset` deletes them).
export { caldavPasswordSecret } from './caldav/index.js';
export { googleTokensSecret } from './google/index.js';
export { outlookCacheSecret } from './outlook/index.js';
export { accountSecrets } from './registry.js';
export type { SecretStore } from './descriptor.js';
