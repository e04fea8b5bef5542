// The CalDAV provider's multistatus reader on answers shaped as RFC 4918 §14.16 and RFC 6578 §6.4
// allow: any prefixes (or a default namespace), CDATA or escaped calendar data, properties in a
// 404 propstat left out, a response-level status for removed members, precondition elements.
import { describe, expect, test } from 'vitest';
import { errorNames, parseXml, readMultistatus } from '../../providers/caldav/xml.js';

describe('the multistatus reader', () => {
  test('prefixes are namespaces, whatever their letters; a default namespace counts too', () => {
    const body = '<?xml version="1.0"?><x:multistatus xmlns:x="DAV:" xmlns:cal="urn:ietf:params:xml:ns:caldav">'
      + '<x:response><x:href>/u/c/a.ics</x:href><x:propstat><x:prop><x:getetag>"1"</x:getetag>'
      + '<cal:calendar-data><![CDATA[BEGIN:VCALENDAR\r\nSUMMARY:a<b & c\r\nEND:VCALENDAR]]></cal:calendar-data></x:prop>'
      + '<x:status>HTTP/1.1 200 OK</x:status></x:propstat></x:response>'
      + '<response xmlns="DAV:"><href>/u/c/b.ics</href><propstat><prop><getetag>&quot;2&quot;</getetag>'
      + '<calendar-data xmlns="urn:ietf:params:xml:ns:caldav">SUMMARY:x &amp; y &#x263A;</calendar-data></prop>'
      + '<status>HTTP/1.1 200 OK</status></propstat></response>'
      + '<x:sync-token>http://example.com/sync/7</x:sync-token></x:multistatus>';
    const { entries, syncToken } = readMultistatus(body);
    expect(syncToken).toBe('http://example.com/sync/7');
    expect(entries.map((e) => [e.href, e.status, e.props.get('DAV:getetag')?.text])).toEqual([['/u/c/a.ics', 200, '"1"'], ['/u/c/b.ics', 200, '"2"']]);
    expect(entries[0]!.props.get('urn:ietf:params:xml:ns:caldavcalendar-data')?.text).toBe('BEGIN:VCALENDAR\r\nSUMMARY:a<b & c\r\nEND:VCALENDAR');
    expect(entries[1]!.props.get('urn:ietf:params:xml:ns:caldavcalendar-data')?.text).toBe('SUMMARY:x & y \u263A');
  });

  test('a removed member is its response status; a property not found is not a property', () => {
    const body = '<d:multistatus xmlns:d="DAV:"><d:response><d:href>/u/c/gone.ics</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>'
      + '<d:response><d:href>/u/c/</d:href><d:propstat><d:prop><d:displayname>Trips</d:displayname></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>'
      + '<d:propstat><d:prop><d:getetag/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat></d:response>'
      + '<d:response><d:href>/u/c/</d:href><d:status>HTTP/1.1 507 Insufficient Storage</d:status><d:error><d:number-of-matches-within-limits/></d:error></d:response>'
      + '</d:multistatus>';
    const { entries, syncToken } = readMultistatus(body);
    expect(syncToken).toBeNull();
    expect(entries.map((e) => e.status)).toEqual([404, 200, 507]);
    expect([...entries[1]!.props.keys()]).toEqual(['DAV:displayname']);
    expect(entries[2]!.errors).toEqual(['number-of-matches-within-limits']);
  });

  test('a precondition body names its condition; attributes are read; other text is no multistatus', () => {
    expect(errorNames('<?xml version="1.0"?>\n<D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>')).toEqual(['valid-sync-token']);
    expect(errorNames('Precondition failed.')).toEqual([]);
    expect(parseXml('<c:comp xmlns:c="urn:ietf:params:xml:ns:caldav" name="VEVENT"/>').attrs).toEqual({ name: 'VEVENT' });
    expect(() => readMultistatus('<html><body>Not found</body></html>')).toThrow(/not a multistatus/);
  });
});
