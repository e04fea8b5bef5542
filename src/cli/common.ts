// What every command shares: global options, opening the app, turning errors into exit codes.
import { ConfigError, TripcalError } from '../errors.js';
import { openApp, type App } from '../app.js';

export interface GlobalOptions {
  config?: string;
  dataDir?: string;
}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export function withApp<T>(options: GlobalOptions, fn: (app: App) => Promise<T> | T): Promise<T> {
  const app = openApp({ configPath: options.config, dataDir: options.dataDir });
  return Promise.resolve()
    .then(() => fn(app))
    .finally(() => app.close());
}

/** Prints an error the way a user can act on it and returns the exit code it deserves. */
export function reportError(error: unknown): number {
  if (error instanceof ConfigError) {
    process.stderr.write(`tripcal: configuration problem${error.problems.length > 1 ? 's' : ''}:\n`);
    for (const p of error.problems) process.stderr.write(`  - ${p}\n`);
    return EXIT.usage;
  }
  if (error instanceof TripcalError) {
    process.stderr.write(`tripcal: ${error.message}\n`);
    return error.code === 'invalid_input' ? EXIT.usage : EXIT.failed;
  }
  process.stderr.write(`tripcal: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  return EXIT.failed;
}
