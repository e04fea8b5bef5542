// Packaging (issue 18): server.json for the MCP registry.
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const serverJson = JSON.parse(readFileSync(join(ROOT, 'server.json'), 'utf8'));

describe('server.json for the MCP registry', () => {
  test('is valid against the registry\'s own schema (2025-12-11, vendored in test/fixtures/registry)', () => {
    const schema = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/registry/server.schema.2025-12-11.json'), 'utf8'));
    expect(serverJson.$schema).toBe(schema.$id);
    const ajv = new Ajv({ allErrors: true, strict: false });
    (addFormats as unknown as (ajv: Ajv) => void)(ajv);
    const validate = ajv.compile(schema);
    expect(validate(serverJson), JSON.stringify(validate.errors, null, 2)).toBe(true);
    // The validator is not toothless: the registry's own examples of invalid input fail.
    for (const broken of [
      { ...serverJson, name: 'tripcal' },
      { ...serverJson, description: 'x'.repeat(101) },
      { ...serverJson, packages: [{ ...serverJson.packages[0], version: 'latest' }] },
      { ...serverJson, remotes: [{ ...serverJson.remotes[0], url: 'ftp://{host}/mcp' }] },
    ]) expect(validate(broken)).toBe(false);
  });

  test('names the package.json it describes: mcpName, versions, the stdio package and the daemon remote', () => {
    expect(pkg.mcpName).toBe(serverJson.name);
    expect(serverJson.name).toMatch(/^io\.github\.[A-Za-z0-9-]+\/[a-zA-Z0-9._-]+$/);
    expect(serverJson.version).toBe(pkg.version);
    const [npm, ...others] = serverJson.packages;
    expect(others).toEqual([]);
    expect(npm).toMatchObject({ registryType: 'npm', identifier: pkg.name, version: pkg.version, transport: { type: 'stdio' } });
    expect(npm.packageArguments.map((a: { value: string }) => a.value)).toEqual(['serve']);
    const env = Object.fromEntries(npm.environmentVariables.map((v: { name: string; isSecret: boolean }) => [v.name, v.isSecret]));
    expect(env).toMatchObject({
      TRIPCAL_DATA_DIR: false, GOOGLE_CLIENT_ID: false, GOOGLE_CLIENT_SECRET: true, GOOGLE_REDIRECT_URI: false,
      MS_CLIENT_ID: false, TRIPCAL_ENCRYPTION_KEY: true,
    });
    const [remote] = serverJson.remotes;
    expect(remote.type).toBe('streamable-http');
    // Every {variable} of the URL and of the header values is declared.
    for (const name of remote.url.match(/\{(\w+)\}/g)!.map((v: string) => v.slice(1, -1))) expect(remote.variables).toHaveProperty(name);
    const auth = remote.headers.find((h: { name: string }) => h.name === 'Authorization');
    expect(auth).toMatchObject({ isSecret: true, isRequired: true, value: 'Bearer {token}' });
    expect(auth.variables.token.isSecret).toBe(true);
    expect(new URL(remote.url.replace('{host}', 'tripcal.example.com')).pathname).toBe('/mcp');
  });
});
