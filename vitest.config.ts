import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The Graph fake speaks HTTPS with a test certificate (graph-client sends no token over http):
// workers started from here trust its CA. Node reads this only at start, hence here.
process.env.NODE_EXTRA_CA_CERTS = fileURLToPath(new URL('./test/support/tls/ca.pem', import.meta.url));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
