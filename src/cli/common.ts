// What every command shares: global options, opening the app, turning errors into exit codes.
import { openApp, type App } from '../app.js';

export interface GlobalOptions {
  config?: string;
  dataDir?: string;
}

export { EXIT, reportError } from './exit.js';

export async function withApp<T>(options: GlobalOptions, fn: (app: App) => Promise<T> | T): Promise<T> {
  const app = await openApp({ configPath: options.config, dataDir: options.dataDir });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}
