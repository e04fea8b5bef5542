// Kills `tripcal sync` (SIGKILL) right after the fake carried out its Nth write, for the crash
// tests of every provider.
import { spawn } from 'node:child_process';
import { storeEnv } from './app.js';
import { CLI } from './mcp.js';

export interface CountsWrites {
  writes: number;
  afterWrite: ((count: number) => void) | null;
}

/** Runs `tripcal sync` on the config and kills it after write `n`; true when it was killed there. */
export async function syncKilledAfterWrite(fake: CountsWrites, config: string, dataDir: string, n: number): Promise<boolean> {
  const env = { ...process.env, TRIPCAL_LOG_LEVEL: 'silent', ...(await storeEnv(dataDir)) };
  const killed = await new Promise<boolean>((resolve) => {
    const child = spawn(process.execPath, [CLI, 'sync', '--config', config, '--data-dir', dataDir], { env, stdio: 'ignore' });
    const start = fake.writes;
    let done = false;
    fake.afterWrite = (count) => {
      if (!done && count - start === n) {
        done = true;
        child.kill('SIGKILL');
      }
    };
    child.on('exit', () => resolve(done));
  });
  fake.afterWrite = null;
  return killed;
}
