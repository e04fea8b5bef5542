// What every command shares: global options, opening the app, turning errors into exit codes.
import { openApp, type App } from '../app.js';

export interface GlobalOptions {
  config?: string;
  dataDir?: string;
}

export { EXIT, reportError } from './exit.js';

export function withApp<T>(options: GlobalOptions, fn: (app: App) => Promise<T> | T): Promise<T> {
  const app = openApp({ configPath: options.config, dataDir: options.dataDir });
  return Promise.resolve()
    .then(() => fn(app))
    .finally(() => app.close());
}
