// Before and after for the issue #19 rows: `after` is this checkout; `before` is measured on the
// checkout named by TRIPCAL_BENCH_BASELINE (built, e.g. commit dcd9144 unpacked in /tmp with
// `npm run build`), else it is the numbers measured that way on dcd9144 and recorded here.
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');

/** Measured at dcd9144 (before issue #19's CalDAV and Outlook work) by these same benchmarks. */
export const RECORDED = {
  caldav: {
    items: 500, first_sync_requests: 507, first_sync_by_method: { PROPFIND: 5, MKCALENDAR: 1, REPORT: 1, PUT: 500 }, first_sync_rss_mb: 141,
    second_sync_requests: 6, no_change_requests: [6, 6, 6], no_change_by_method: { PROPFIND: 5, REPORT: 1 }, no_change_rss_mb: 111,
    one_edit_requests: 7, one_edit_by_method: { PROPFIND: 5, REPORT: 1, PUT: 1 },
  },
  outlookPatch: {
    changed: 'title', patches: 1, patch_fields: 10,
    patch_field_names: ['subject', 'body', 'start', 'end', 'isAllDay', 'location', 'isReminderOn', 'reminderMinutesBeforeStart', 'showAs', 'singleValueExtendedProperties'],
  },
};

export async function beforeAfter(measure, recorded) {
  const after = await measure(ROOT);
  const baseline = process.env.TRIPCAL_BENCH_BASELINE;
  if (baseline) return { before: await measure(resolve(baseline)), after, before_from: `measured on ${resolve(baseline)}` };
  return { before: recorded, after, before_from: 'recorded at dcd9144 (set TRIPCAL_BENCH_BASELINE to a built checkout to measure it)' };
}
