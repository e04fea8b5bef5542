// What a bad configuration file gets from the CLI process (issue 14.12, 16.11): one line naming
// the file and the line, exit 2, never a JavaScript stack; a typo'd key gets the key it meant;
// and config.example.yaml as shipped loads without a single warning.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, test } from 'vitest';
import { CLI, tempDir } from '../support/mcp.js';

/** `tripcal doctor --config FILE` with the config's variables unset and a fresh data directory. */
function doctor(config: string, env: Record<string, string> = {}) {
  const home = tempDir();
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) =>
    !/^(CALDAV_PASSWORD|GOOGLE_|MS_|TRIPCAL_)/.test(k))) as Record<string, string>;
  const result = spawnSync(process.execPath, [CLI, 'doctor', '--config', config], {
    encoding: 'utf8', env: { ...clean, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), TRIPCAL_DATA_DIR: join(home, 'data'), ...env }, timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function configFile(text: string): string {
  const file = join(tempDir(), 'config.yaml');
  writeFileSync(file, text);
  return file;
}

const noStack = (stderr: string) => expect(stderr).not.toMatch(/\n\s+at |ReferenceError|RangeError|TypeError/);

test('a billion-laughs config file is refused naming the file and line, not with a ReferenceError stack', () => {
  const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) {
    const [name, prev] = [String.fromCharCode(97 + i), String.fromCharCode(96 + i)];
    levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  const file = configFile(`${levels.join('\n')}\n`);
  const out = doctor(file);
  expect(out.code).toBe(2);
  noStack(out.stderr);
  expect(out.stderr).toBe(`tripcal: configuration problem:\n  - ${file} line 2, column 8: aliases expand too much (more than 100 uses of anchored values, as a "billion laughs" file does); nothing was read\n`);
  expect(out.stdout).toBe('');
});

test('an alias without its anchor names the file, line and column', () => {
  const file = configFile('default_user: me\nsync:\n  on_edit: *nope\n');
  const out = doctor(file);
  expect(out.code).toBe(2);
  noStack(out.stderr);
  expect(out.stderr).toBe(`tripcal: configuration problem:\n  - ${file} line 3, column 12: Unresolved alias (the anchor must be set before the alias): nope\n`);
});

test('a YAML syntax error reads "FILE line L, column C: reason" with nothing dangling', () => {
  const file = configFile('sync:\n  wait_seconds: 3\n  x: [1, 2\nlog_level: info\n');
  const out = doctor(file);
  expect(out.code).toBe(2);
  noStack(out.stderr);
  expect(out.stderr).toBe(`tripcal: configuration problem:\n  - ${file} line 4, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]\n`);
});

test('a typo\'d key gets the key it meant, at its own level (an account\'s by its provider)', () => {
  const file = configFile([
    'sync:', '  wait_secnds: 3',
    'users:', '  me:', '    timezon: UTC', '    colour: red',
    'accounts:', '  - name: h', '    provider: caldav', '    url: https://dav.example.org/', '    username: u', '    calender: Trips', '    pasword: x',
    'log_levle: info', '',
  ].join('\n'));
  const out = doctor(file);
  expect(out.code).toBe(2);
  noStack(out.stderr);
  expect(out.stderr.split('\n').filter(Boolean).slice(1).sort()).toEqual([
    `  - ${file}: (top level): Unrecognized key: "log_levle" (did you mean log_level?)`,
    `  - ${file}: accounts[0]: Unrecognized keys: "calender", "pasword" (calender: did you mean calendar?; pasword: did you mean password?)`,
    `  - ${file}: sync: Unrecognized key: "wait_secnds" (did you mean wait_seconds?)`,
    `  - ${file}: users.me: Unrecognized keys: "timezon", "colour" (timezon: did you mean timezone?; colour)`,
  ]);
});

test('config.example.yaml loads without a warning with the variables it documents unset', () => {
  const out = doctor(resolve(import.meta.dirname, '../../config.example.yaml'), { TRIPCAL_LOG_LEVEL: 'debug' });
  expect(out.code, out.stderr).toBe(0);
  expect(out.stderr.split('\n').filter((l) => /"level":"(warn|error)"/.test(l))).toEqual([]);
  expect(out.stdout).toMatch(/accounts\s+home \(caldav/);
});
