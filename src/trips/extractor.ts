// KDE Itinerary's extractor (Debian: libkpimitinerary-bin), run as a child process to read what
// has no JSON-LD: PDFs, Apple Wallet passes, boarding-pass barcodes in images and text, vendors'
// e-mails. It writes schema.org JSON-LD, which reservations.ts maps like any other. A document is
// a stranger's: the extractor gets it in a private temp file, never through a shell, with a time
// limit, an output limit, an address-space limit where prlimit exists, and at most a few at once,
// so a hostile file costs a bounded few seconds of one child and the daemon keeps answering.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { log } from '../log.js';
import { utcSeconds } from '../store/rows.js';

/** The Debian package that ships the extractor, as the messages name it. */
export const EXTRACTOR_PACKAGE = 'libkpimitinerary-bin';
export const INSTALL_HINT = `apt-get install ${EXTRACTOR_PACKAGE}`;

/** Where Debian and Ubuntu (KF5, then KF6) and other distributions put it. */
const KNOWN_PATHS = [
  '/usr/lib/x86_64-linux-gnu/libexec/kf5/kitinerary-extractor',
  '/usr/lib/aarch64-linux-gnu/libexec/kf5/kitinerary-extractor',
  '/usr/lib/x86_64-linux-gnu/libexec/kf6/kitinerary-extractor',
  '/usr/lib/aarch64-linux-gnu/libexec/kf6/kitinerary-extractor',
  '/usr/libexec/kf5/kitinerary-extractor',
  '/usr/libexec/kf6/kitinerary-extractor',
  '/usr/lib/libexec/kf5/kitinerary-extractor',
];

/** What the extractor may write; a JSON-LD answer this large is not a booking (the import cap too). */
export const MAX_EXTRACTOR_OUTPUT = 5_000_000;
/** The end of stderr kept for a log line; the extractor's debug output is not wanted. */
const MAX_STDERR = 16_384;
/** Where util-linux keeps prlimit (Essential in Debian), which caps the child's address space. */
const PRLIMIT = '/usr/bin/prlimit';

export interface ExtractorSettings {
  /** A path, false (never), or undefined: look where distributions install it. */
  extractor?: string | false;
  timeout_seconds: number;
  max_processes: number;
  memory_mb: number;
}

export type ExtractorLocation = { state: 'found'; path: string } | { state: 'off' } | { state: 'missing'; path?: string };

const executable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * Where the extractor is: TRIPCAL_EXTRACTOR (a path, or "false" / "off"), else import.extractor,
 * else the first known path that exists. `missing` with a path: the one asked for is not there.
 */
export function locateExtractor(settings: Pick<ExtractorSettings, 'extractor'>, env: NodeJS.ProcessEnv = process.env): ExtractorLocation {
  const fromEnv = env.TRIPCAL_EXTRACTOR?.trim();
  const wanted = fromEnv ? (/^(false|off|no|0)$/i.test(fromEnv) ? false : fromEnv) : settings.extractor;
  if (wanted === false) return { state: 'off' };
  if (wanted !== undefined) return executable(wanted) ? { state: 'found', path: wanted } : { state: 'missing', path: wanted };
  const path = KNOWN_PATHS.find(executable);
  return path ? { state: 'found', path } : { state: 'missing' };
}

/** The child's environment: nothing of tripcal's (no tokens, no database URL), a headless Qt, UTC. */
function childEnv(runtimeDir: string): NodeJS.ProcessEnv {
  return {
    PATH: '/usr/bin:/bin',
    HOME: runtimeDir,
    XDG_RUNTIME_DIR: runtimeDir,
    LANG: 'C.UTF-8',
    TZ: 'UTC',
    QT_QPA_PLATFORM: 'offscreen',
    // Its debug categories write the document's text to stderr.
    QT_LOGGING_RULES: '*.debug=false',
  };
}

/** The extractor's version line ("kitinerary-extractor 5.22.3"), or null when it does not answer within `timeoutMs`. */
export function extractorVersion(path: string, timeoutMs = 3000): string | null {
  const run = spawnSync(path, ['-v'], { env: childEnv(tmpdir()), timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8', maxBuffer: 65_536 });
  if (run.status !== 0) return null;
  return run.stdout.trim().split('\n')[0]?.slice(0, 200) || null;
}

// ---- at most a few at once -------------------------------------------------------------------

let running = 0;
const waiting: Array<() => void> = [];

async function withSlot<T>(limit: number, run: () => Promise<T>): Promise<T> {
  if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await run();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

// ---- one run ---------------------------------------------------------------------------------

export interface ExtractorRun {
  path: string;
  settings: ExtractorSettings;
  bytes: Buffer;
  /** A name for the temp file: its extension helps the extractor tell a .pkpass from a zip. */
  filename: string;
  /** When the document was received: a boarding pass keeps only the day of the year. */
  contextDate: Date;
  /** The field a refusal names (content, content_base64, FILE). */
  field: string;
}

function argumentsFor(run: ExtractorRun, file: string): { command: string; args: string[] } {
  const args = ['-c', utcSeconds(run.contextDate.getTime()), file];
  if (!executable(PRLIMIT)) return { command: run.path, args };
  const bytes = run.settings.memory_mb * 1024 * 1024;
  return { command: PRLIMIT, args: [`--as=${bytes}`, '--core=0', '--', run.path, ...args] };
}

/** Runs the extractor on the document in a private temp file; its JSON-LD text, or an InputError naming the field. */
export function runExtractor(run: ExtractorRun): Promise<string> {
  return withSlot(run.settings.max_processes, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tripcal-extract-'));
    try {
      const file = join(dir, run.filename);
      await writeFile(file, run.bytes, { mode: 0o600, flag: 'wx' });
      return await spawnExtractor(run, file, dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

function spawnExtractor(run: ExtractorRun, file: string, dir: string): Promise<string> {
  const { command, args } = argumentsFor(run, file);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: childEnv(dir), cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let outBytes = 0;
    let stderr = '';
    let refusal: string | undefined;
    const stop = (why: string) => {
      refusal ??= why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop(`did not finish within ${run.settings.timeout_seconds} s`), run.settings.timeout_seconds * 1000);
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > MAX_EXTRACTOR_OUTPUT) stop(`wrote more than ${MAX_EXTRACTOR_OUTPUT.toLocaleString('en-US')} bytes`);
      else out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-MAX_STDERR);
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new InputError(run.field, `KDE's itinerary extractor could not be started (${error.message}); nothing was imported`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ms = Date.now() - started;
      if (refusal || code !== 0) {
        // Counts and states only: the extractor's stderr quotes the document.
        log.warn('the itinerary extractor failed', { ms, code, signal, refusal, stderr_bytes: stderr.length });
        const what = refusal ?? (signal ? `stopped by ${signal} (the document may be damaged, or need more memory than import.memory_mb allows)` : `failed (exit status ${code})`);
        reject(new InputError(run.field, `KDE's itinerary extractor ${what} on this document; nothing was imported`));
        return;
      }
      log.debug('the itinerary extractor answered', { ms, bytes: outBytes });
      resolve(Buffer.concat(out).toString('utf8'));
    });
  });
}
