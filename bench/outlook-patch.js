// Outlook: what an update sends to change one field (issue #19), read from the Graph fake's own
// request log: one activity synced, its title changed, synced again; the PATCH body's fields.
// `root` is the checkout whose dist/ is measured, so an older build is measured the same way.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { loadSupport, outlookConfig } from './outlook.js';
import { tmp } from './servers.js';

export async function outlookPatchBench(root) {
  const { GraphFake, signIn } = await loadSupport();
  GraphFake.tlsDir = new URL('../test/support/tls/', import.meta.url);
  const fake = await new GraphFake().start();
  try {
    const dir = tmp();
    const config = join(dir, 'config.yaml');
    writeFileSync(config, outlookConfig(fake));
    const { openApp } = await import(pathToFileURL(join(root, 'dist/src/app.js')).href);
    const app = await openApp({ dataDir: dir, configPath: config });
    await app.vault.set('outlook:bench:msal-cache', (await signIn(fake)).cache);
    const year = new Date().getUTCFullYear() + 1;
    const { item } = await app.trips.addItem(undefined, { kind: 'activity', details: { name: 'Harbor tour', start_time: `${year}-06-16T10:00`, location: 'Pier 83' } }, { path: 'a' });
    await app.sync.sync();
    await app.trips.updateItem(undefined, item.id, { changes: { name: 'Harbor tour (sunset)' } });
    const start = fake.requests.length;
    await app.sync.sync();
    await app.close();
    const patches = fake.requests.slice(start).filter((r) => r.method === 'PATCH');
    const fields = Object.keys(patches[0]?.body ?? {});
    return { changed: 'title', patches: patches.length, patch_fields: fields.length, patch_field_names: fields };
  } finally {
    await fake.stop();
  }
}
