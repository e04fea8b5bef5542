// One of something per App, made on first use and shared by everything built for it (each MCP
// server instance, a stdio connection or an HTTP request; the status page): tool definitions, the
// change watch, the request-state codec, the sign-ins under way. Gone with the App.
import type { App } from './app.js';

export function perApp<T>(make: (app: App) => T): (app: App) => T {
  const made = new WeakMap<App, T>();
  return (app) => {
    if (!made.has(app)) made.set(app, make(app));
    return made.get(app)!;
  };
}
