// The page's one script, served from the daemon at /page.js (the Content-Security-Policy allows
// scripts from the daemon only, none inline). Without it every control still works: forms post
// and the page comes back with the result. With it: "Copy link" copies a feed link, a sync
// button says it is working, and a sync under way shows each account's progress as it goes (from
// /page/progress) and then its result.

/** Runs in the browser; it refers to nothing but the page's globals, so its text is the script. */
function pageScript(): void {
  for (const button of Array.from(document.querySelectorAll<HTMLButtonElement>('button[data-copy]'))) {
    button.addEventListener('click', () => {
      const input = document.getElementById(button.dataset.copy ?? '') as HTMLInputElement | null;
      const status = document.getElementById(`${button.dataset.copy}-status`);
      if (!input) return;
      const done = (ok: boolean) => {
        if (status) status.textContent = ok ? 'Copied.' : 'Could not copy: select the link and copy it yourself.';
      };
      input.select();
      if (navigator.clipboard) navigator.clipboard.writeText(input.value).then(() => done(true), () => done(document.execCommand('copy')));
      else done(document.execCommand('copy'));
    });
  }
  let sent = false;
  for (const form of Array.from(document.querySelectorAll<HTMLFormElement>('form[data-busy]'))) {
    form.addEventListener('submit', (event) => {
      // One sync at a time from this page: a second press waits for the first.
      if (sent) {
        event.preventDefault();
        return;
      }
      sent = true;
      const button = form.querySelector('button');
      if (button) {
        button.setAttribute('aria-busy', 'true');
        button.textContent = form.dataset.busy ?? 'Working…';
      }
    });
  }
  const result = document.getElementById('sync-result');
  result?.focus();
  const run = result?.dataset.run;
  if (run) {
    const shown = document.getElementById('sync-progress');
    const poll = () => {
      fetch(`/page/progress?run=${encodeURIComponent(run)}`, { cache: 'no-store' })
        .then((r) => r.json() as Promise<{ done: boolean; accounts: Array<{ account: string; done: number; total: number }> }>)
        .then((p) => {
          if (p.done) {
            location.replace(`/?done=${encodeURIComponent(run)}#sync-result`);
            return;
          }
          if (shown && p.accounts.length > 0) shown.textContent = p.accounts.map((a) => `${a.account}: ${a.done} of ${a.total} change(s) written`).join('\n');
          setTimeout(poll, 400);
        }, () => setTimeout(poll, 2000));
    };
    setTimeout(poll, 200);
  }
}

export const PAGE_SCRIPT = `(${pageScript.toString()})();\n`;
