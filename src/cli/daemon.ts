// `tripcal daemon`: starts the long-running process (src/daemon) and says where everything is.
// SIGTERM / SIGINT stop it cleanly and exit 0.
import type { GlobalOptions } from './common.js';

export async function daemonCommand(options: GlobalOptions & { replica?: boolean }): Promise<void> {
  const { startDaemon } = await import('../daemon/daemon.js');
  const daemon = await startDaemon({ configPath: options.config, dataDir: options.dataDir }, { replica: options.replica === true });
  process.stdout.write(daemon.banner);
  const exit = (reason: string) => void daemon.stop(reason).finally(() => process.exit(0));
  process.on('SIGTERM', () => exit('SIGTERM'));
  process.on('SIGINT', () => exit('SIGINT'));
}
