// The built-in authorization server's pages: the sign-in and consent form, and the page that
// says an authorization request cannot be answered. Plain HTML without script; every value from
// the request (a client's self-chosen name, a user name typed in) is escaped. The Content
// Security Policy allows nothing but the page's own style (by nonce) and form posts to this
// server and to the one redirect URI the request was checked against (browsers apply
// form-action to the redirect that follows a form post too).
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = `
body { font: 16px/1.5 system-ui, sans-serif; max-width: 28rem; margin: 3rem auto; padding: 0 1rem; color: #1b1b1b; }
h1 { font-size: 1.4rem; }
label { display: block; margin-top: 1rem; font-weight: 600; }
input { box-sizing: border-box; width: 100%; padding: .5rem; font: inherit; }
.buttons { margin-top: 1.5rem; display: flex; gap: 1rem; }
button { padding: .5rem 1.2rem; font: inherit; }
.error { color: #a40000; font-weight: 600; }
.who { color: #444; }
`;

function headers(nonce: string, formTarget?: string): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `default-src 'none'; style-src 'nonce-${nonce}'; form-action 'self'${formTarget ? ` ${formTarget}` : ''}; frame-ancestors 'none'; base-uri 'none'`,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    // Not no-referrer: with it a browser sends `Origin: null` on the form's own POST, which the
    // Origin check refuses (every real browser's sign-in failed so). same-origin still sends
    // nothing to the client's redirect URI, which is on another origin.
    'referrer-policy': 'same-origin',
    'cache-control': 'no-store',
  };
}

function page(title: string, nonce: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

export interface SignInForm {
  /** The client's self-chosen name (untrusted), and where it will receive the answer. */
  clientName: string;
  redirectHost: string;
  /** Where the client's metadata document is published, when it named itself by one (its host vouches for the name). */
  documentHost?: string | undefined;
  /** What the client asks for, in words. */
  scopes: string[];
  /** Hidden fields: the signed authorization request and its CSRF token. */
  request: string;
  csrf: string;
  /** The origin of the redirect URI (form-action). */
  redirectOrigin: string;
  user?: string | undefined;
  error?: string | undefined;
  /** Where the form posts (the authorization endpoint). */
  action: string;
  extraHeaders?: Record<string, string>;
}

export function sendSignIn(res: ServerResponse, status: number, form: SignInForm): void {
  const nonce = randomBytes(16).toString('base64');
  const body = `<h1>Sign in to tripcal</h1>
<p>An application that calls itself <strong>${escape(form.clientName)}</strong>${form.documentHost ? ` (published by <strong>${escape(form.documentHost)}</strong>)` : ''} (answers go to <strong>${escape(form.redirectHost)}</strong>) asks to:</p>
<ul>
${form.scopes.map((s) => `<li>${escape(s)}</li>`).join('\n')}
</ul>
${form.error ? `<p class="error" role="alert">${escape(form.error)}</p>` : ''}
<form method="post" action="${escape(form.action)}">
<input type="hidden" name="request" value="${escape(form.request)}">
<input type="hidden" name="csrf" value="${escape(form.csrf)}">
<label for="user">User</label>
<input id="user" name="user" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="64" required value="${escape(form.user ?? '')}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" maxlength="1024" required>
<div class="buttons">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" formnovalidate>Deny</button>
</div>
</form>
<p class="who">Only sign in if you started connecting this application to tripcal yourself.</p>`;
  res.writeHead(status, { ...headers(nonce, form.redirectOrigin), ...form.extraHeaders }).end(page('Sign in to tripcal', nonce, body));
}

/** An authorization request that cannot go back to its client (unknown client, unregistered redirect URI…). */
export function sendProblem(res: ServerResponse, status: number, message: string): void {
  const nonce = randomBytes(16).toString('base64');
  res.writeHead(status, headers(nonce)).end(page('tripcal: cannot sign in', nonce, `<h1>This sign-in cannot go on</h1>\n<p class="error" role="alert">${escape(message)}</p>\n<p>Start connecting again from the application.</p>`));
}
