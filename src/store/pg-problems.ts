// What goes wrong between tripcal and a PostgreSQL server, in words a person can act on, and the
// URL as messages may show it: without its password, in any of the forms it could appear in.

export const URL_SETTING = 'store.url (or DATABASE_URL)';

/** Why the server or database at the URL cannot be used, by pg's or Node's error code, in words. */
const SERVER_PROBLEMS: ReadonlyArray<[readonly string[], (text: string) => string]> = [
  [['ECONNREFUSED'], (t) => `nothing answers there (${t}): check that the PostgreSQL server runs and listens on that host and port, and check ${URL_SETTING}`],
  [['ENOTFOUND', 'EAI_AGAIN'], (t) => `the host name is not known (${t}): check ${URL_SETTING} and the DNS`],
  [['ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'], (t) => `the server cannot be reached (${t}): check the host, the network and any firewall, and check ${URL_SETTING}`],
  [['ECONNRESET', '57P01', '57P02', '57P03', '53300'],
    (t) => `the server dropped or turned away the connection (${t}): check that it runs and is not full, then try again`],
  [['28P01', '28000'], (t) => `the server refused the role (${t}): check the role's name and password in ${URL_SETTING}, and that pg_hba.conf lets it in`],
  [['3D000'], (t) => `the database does not exist (${t}): create it (createdb -O ROLE NAME) or check ${URL_SETTING}`],
  [['42501'], (t) => `the role may not do this (${t}): tripcal makes and changes its own tables, so make the role the database's owner `
    + '(PostgreSQL 15 no longer lets every role create tables in schema public)'],
  [['42P07'], (t) => `the database already has a table tripcal would make (${t}), which tripcal_schema does not say it made: give tripcal a database of its own`],
];

/** What is wrong with the server or the URL, or undefined when the error is about a statement. */
export function serverProblem(code: string, text: string): string | undefined {
  const known = SERVER_PROBLEMS.find(([codes]) => codes.includes(code));
  if (known) return known[1](text);
  // pg's own words, with no code, for a connection that timed out or ended.
  if (/^(timeout expired|Connection terminated|Client has encountered a connection error)/i.test(text)) {
    return `the server did not answer or ended the connection (${text}): check that it runs and is reachable, and check ${URL_SETTING}`;
  }
  return undefined;
}

/** The URL without its password (for messages), and the forms the password could appear in; `where` is '' when it is no URL. */
export function redact(url: string): { where: string; secrets: string[] } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { where: '', secrets: [] };
  }
  const secrets = [parsed.password, parsed.searchParams.get('password') ?? ''].filter(Boolean);
  if (parsed.password) parsed.password = '***';
  if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***');
  // pg decodes %-escapes, so the password could appear in a message either way.
  const forms = secrets.flatMap((s) => {
    try {
      return [s, decodeURIComponent(s)];
    } catch {
      return [s];
    }
  });
  return { where: parsed.toString(), secrets: forms };
}

export function scrub(text: string, secrets: readonly string[]): string {
  return secrets.reduce((t, s) => t.split(s).join('***'), text);
}
