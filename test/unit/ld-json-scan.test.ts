// The linear ld+json scanner (issue 14.3) reads what the old regex read: any case, quotes or
// none, other attributes first, an HTML comment around the JSON; it skips other scripts whole
// and stops at a script that is never closed.
import { expect, test } from 'vitest';
import { findJsonLd, ldJsonScripts } from '../../src/trips/booking-text.js';

test('ld+json scripts in any spelling are found; other scripts are skipped whole', () => {
  const html = [
    '<SCRIPT data-x="1" TYPE=\'application/ld+json\'>{"a":1}</SCRIPT >',
    '<script>var s = "<script type=\\"application/ld+json\\">{\\"no\\":1}";</script>',
    '<script type=application/ld+json>{"b":2}</script>',
    '<script type="application/ld+json; charset=utf-8"><!-- {"c":3} --></script>',
    '<scripts type="application/ld+json">{"no":2}</scripts>',
    '<script data-type="application/ld+json">{"no":3}</script>',
    '<script\ntype = "application/ld+json"\n>{"d":4}</script\n>',
  ].join('\n');
  expect(findJsonLd(`<html>${html}</html>`)).toEqual({ values: [{ a: 1 }, { b: 2 }, { c: 3 }, { d: 4 }], errors: [] });
});

test('unclosed tags and scripts end the scan instead of being searched again', () => {
  expect(ldJsonScripts('<script type="application/ld+json">{"a":1}</script><script type="application/ld+json">{"b":')).toEqual(['{"a":1}']);
  expect(ldJsonScripts('<script type="application/ld+json" <script')).toEqual([]);
  expect(ldJsonScripts('<'.repeat(10_000) + '<script >'.repeat(10_000))).toEqual([]);
});

test('more than 1,000 ld+json blocks is refused, naming content and the limit', () => {
  const many = '<script type="application/ld+json">{}</script>'.repeat(1_001);
  expect(() => findJsonLd(many)).toThrow(/^content: more than 1000 <script type="application\/ld\+json"> blocks/);
  expect(findJsonLd('<script type="application/ld+json">{}</script>'.repeat(1_000)).values).toHaveLength(1_000);
});
