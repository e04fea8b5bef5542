const t0 = performance.now();
const mods = ['commander', 'zod', 'yaml', 'better-sqlite3', 'luxon', 'ical-generator', '@modelcontextprotocol/sdk/server/mcp.js', '@modelcontextprotocol/sdk/server/stdio.js', '../dist/src/app.js', '../dist/src/mcp/server.js'];
for (const m of mods) { const t = performance.now(); await import(m); console.log(m, (performance.now() - t).toFixed(1)); }
console.log('total', (performance.now() - t0).toFixed(1));
