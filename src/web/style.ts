// The one stylesheet of the trip view, served by the daemon at /page.css and inlined in the MCP
// App. Nothing is told by colour alone: warnings carry "⚠ Check:", states are words, the kind of
// each line is written out; colour only helps. System fonts, no images, light and dark.
export const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #fff; --panel: #f6f8fa; --warn: #9a6700; --warn-bg: #fff8c5; --bad: #cf222e; --accent: #0550ae; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9da7b3; --line: #3d444d; --bg: #0d1117; --panel: #161b22; --warn: #d29922; --warn-bg: #2b2111; --bad: #ff7b72; --accent: #79c0ff; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
main, header.top { max-width: 64rem; margin: 0 auto; padding: 0 1rem; }
header.top { display: flex; flex-wrap: wrap; align-items: baseline; gap: .5rem 1.5rem; padding-top: 1rem; }
header.top h1 { margin: 0; font-size: 1.4rem; }
header.top .who { margin-left: auto; display: flex; gap: .5rem; align-items: baseline; }
header.top .who form { display: inline; }
nav.skip a { margin-right: 1rem; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .25rem; }
h3 { font-size: 1rem; margin: .75rem 0 .25rem; }
.trip > :is(h2, h3, h4) { font-size: 1.15rem; margin: .75rem 0 .1rem; }
li.day > :is(h3, h4, h5) { font-size: 1rem; margin: .6rem 0 .2rem; }
section.block { border-top: 1px solid var(--line); margin-top: 1.5rem; }
.trip { border: 1px solid var(--line); border-radius: 6px; padding: .25rem 1rem 1rem; margin: 1rem 0; background: var(--bg); }
.trip-facts, .muted, .notes { color: var(--muted); margin: 0; }
ol.days, ol.entries { list-style: none; margin: 0; padding: 0; }
li.day { border-left: 3px solid var(--line); padding-left: .75rem; margin-top: .5rem; }
li.entry { padding: .3rem 0; border-bottom: 1px dashed var(--line); }
li.entry:last-child { border-bottom: 0; }
.kind { display: inline-block; min-width: 5.5rem; font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
.when { font-variant-numeric: tabular-nums; font-weight: 600; margin-right: .5rem; }
.zone { font-weight: 400; }
.facts { color: var(--muted); font-size: .9rem; }
.has-warning { background: var(--warn-bg); }
.warning { margin: .25rem 0 0 5.5rem; color: var(--fg); }
.warning strong, .checks strong { color: var(--warn); }
.checks { border: 2px solid var(--warn); border-radius: 6px; padding: .25rem .75rem; margin: .5rem 0; }
.checks ul { margin: .25rem 0; padding-left: 1.25rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { text-align: left; vertical-align: top; padding: .35rem .5rem; border-bottom: 1px solid var(--line); }
th { font-size: .85rem; color: var(--muted); font-weight: 600; }
.state-bad { color: var(--bad); font-weight: 600; }
.conflict { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; border: 1px solid var(--line); border-radius: 6px; padding: .5rem 1rem; margin: .5rem 0; }
.conflict h4 { margin: .25rem 0; }
.conflict dl { margin: 0; display: grid; grid-template-columns: max-content 1fr; gap: .1rem .75rem; }
.conflict dt { color: var(--muted); }
.conflict dd { margin: 0; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; margin: .5rem 0; }
button, .button { font: inherit; padding: .35rem .9rem; border: 1px solid var(--line); border-radius: 6px; background: var(--panel); color: var(--fg); cursor: pointer; text-decoration: none; display: inline-block; }
button[aria-busy="true"] { cursor: progress; opacity: .7; }
.feed input { width: 100%; font: .85rem ui-monospace, monospace; padding: .3rem; }
.notice { border: 2px solid var(--line); border-radius: 6px; padding: .5rem 1rem; margin: 1rem 0; background: var(--panel); }
.notice pre { white-space: pre-wrap; margin: .25rem 0 0; font: inherit; }
@media (max-width: 40rem) { .conflict { grid-template-columns: 1fr; } .warning { margin-left: 0; } .kind { min-width: 0; margin-right: .5rem; } }
`;
