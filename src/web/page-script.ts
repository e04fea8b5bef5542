// The page's one script, served from the daemon at /page.js (the Content-Security-Policy allows
// scripts from the daemon only, none inline). Without it every control still works: forms post
// and the page comes back with the result. With it: "Copy link" copies a feed link, and a sync
// button says it is working while the sync runs.

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
  document.getElementById('sync-result')?.focus();
}

export const PAGE_SCRIPT = `(${pageScript.toString()})();\n`;
