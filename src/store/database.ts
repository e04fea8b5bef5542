// Opening the SQLite file safely. A database that is missing is made, migrated, and only then
// put in place (so no other process ever sees a half-made one); a file that is there but empty,
// damaged, not a database, or made by a newer tripcal is refused with a message that names the
// file and what to do, never a SqliteError stack and never a silently fresh model.
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, existsSync, linkSync, mkdirSync, openSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TripcalError } from '../errors.js';
import { MIGRATIONS } from './migrations.js';

/** The database cannot be used as it is: damaged, empty, unreadable, or from a newer tripcal. */
export class StoreError extends TripcalError {
  constructor(readonly path: string, message: string) {
    super('config', `${path}: ${message}`);
    this.name = 'StoreError';
  }
}

const RESTORE = 'restore it from a backup, or move it aside (mv FILE FILE.broken) to start with an empty model';

/** SQLite result codes that mean the file itself is bad, not the statement. */
const DAMAGE = /^SQLITE_(CORRUPT|NOTADB)/;

/** What an error from SQLite means for the person running tripcal, or undefined when it is not about the file. */
export function storeProblem(path: string, error: unknown): StoreError | undefined {
  const code = (error as { code?: string }).code ?? '';
  const text = (error as Error).message ?? String(error);
  if (DAMAGE.test(code)) return new StoreError(path, `the database is damaged (${code}: ${text}); ${RESTORE.replace(/FILE/g, path)}`);
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_IOERR') || code === 'SQLITE_PERM') {
    return new StoreError(path, `cannot ${code.startsWith('SQLITE_READONLY') ? 'write' : 'open'} the database (${code}): ${access(path)}`);
  }
  if (code === 'SQLITE_FULL') return new StoreError(path, 'the disk is full; free some space and try again (nothing was changed)');
  return undefined;
}

/** Why a file or its directory cannot be used, in words. */
function access(path: string): string {
  const dir = dirname(path);
  try {
    accessSync(dir, constants.W_OK);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'EROFS' ? 'is on a read-only file system' : 'is not writable by this user';
    return `the data directory ${dir} ${why}, so it is not writable (SQLite needs to write its -wal and -shm files beside the database); `
      + 'make it writable or give another --data-dir';
  }
  if (existsSync(path)) {
    try {
      accessSync(path, constants.R_OK | constants.W_OK);
    } catch {
      return 'the file is not readable and writable by this user; fix its permissions';
    }
  }
  return 'check the file, its permissions and the free disk space';
}

function migrate(db: Database.Database, path: string): void {
  // Foreign keys are off while migrating (SQLite ignores the pragma inside a transaction, so it is
  // set around it): a migration that rebuilds a table drops the old one, which with them on would
  // delete or refuse the rows that refer to it. What the migrations leave is checked in full
  // before it commits.
  db.pragma('foreign_keys = OFF');
  try {
    // BEGIN IMMEDIATE so two processes starting together do not both apply a migration.
    db.transaction(() => {
      const current = db.pragma('user_version', { simple: true }) as number;
      if (current > MIGRATIONS.length) {
        throw new StoreError(path, `the database has schema version ${current}, made by a newer tripcal (this one knows up to ${MIGRATIONS.length}); `
          + 'run that newer version, or restore a backup made with this one. Nothing was changed');
      }
      for (let v = current; v < MIGRATIONS.length; v++) {
        db.exec(MIGRATIONS[v]!);
        db.pragma(`user_version = ${v + 1}`);
      }
      if (current < MIGRATIONS.length) {
        const broken = db.pragma('foreign_key_check') as Array<{ table: string; parent: string }>;
        if (broken.length > 0) {
          throw new StoreError(path, `migrating the database from schema version ${current} would leave ${broken.length} row(s) referring to nothing `
            + `(${[...new Set(broken.map((b) => `${b.table} → ${b.parent}`))].join(', ')}); nothing was changed: ${RESTORE.replace(/FILE/g, path)}`);
        }
      }
    }).immediate();
  } finally {
    db.pragma('foreign_keys = ON');
  }
}

function configure(db: Database.Database): void {
  // The timeout first: switching a new file to WAL takes a lock another process may hold.
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
}

/**
 * A new database, made complete under a temporary name and then linked into place: link() fails
 * when the name exists, so of two processes making it at once one wins and the other uses it.
 */
function create(path: string): void {
  const temp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tripcal-new.db`);
  try {
    // The model holds personal data: readable by its owner only (the directory is 0700 as well).
    closeSync(openSync(temp, 'wx', 0o600));
    const db = new Database(temp);
    configure(db);
    migrate(db, path);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    try {
      linkSync(temp, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  } finally {
    for (const suffix of ['', '-wal', '-shm']) rmSync(temp + suffix, { force: true });
  }
}

/** Opens (making it first when missing) and migrates the database at `path`, or throws a StoreError. */
export function openDatabase(path: string): Database.Database {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new StoreError(path, `cannot make the data directory (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); give a writable --data-dir`);
  }
  let db: Database.Database | undefined;
  try {
    if (!existsSync(path)) create(path);
    if (statSync(path).size === 0) {
      throw new StoreError(path, `the database file is empty (0 bytes): that is a damaged database, not a new one; ${RESTORE.replace(/FILE/g, path)}`);
    }
    db = new Database(path);
    configure(db);
    const check = db.pragma('quick_check') as Array<{ quick_check: string }>;
    if (check[0]?.quick_check !== 'ok') {
      throw new StoreError(path, `the database is damaged (${check.slice(0, 3).map((c) => c.quick_check).join('; ')}); ${RESTORE.replace(/FILE/g, path)}`);
    }
    migrate(db, path);
    return db;
  } catch (error) {
    db?.close();
    if (error instanceof StoreError) throw error;
    throw storeProblem(path, error) ?? error;
  }
}
