// One of something per App, made on first use and shared by every MCP server instance built for
// that App (a stdio connection, each HTTP request): tool definitions, the change watch, the
// request-state codec, the sign-in listeners. Gone with the App.
import type { App } from '../app.js';

export function perApp<T>(make: (app: App) => T): (app: App) => T {
  const made = new WeakMap<App, T>();
  return (app) => {
    if (!made.has(app)) made.set(app, make(app));
    return made.get(app)!;
  };
}
