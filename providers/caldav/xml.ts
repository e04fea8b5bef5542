// The little XML that CalDAV needs: a namespace-aware reader for the multistatus answers of
// PROPFIND and REPORT (RFC 4918 §13, §14), and escaping for the bodies we send. Entities are
// the five predefined ones and character references; a DOCTYPE is skipped, never expanded.

export const DAV = 'DAV:';
export const CALDAV = 'urn:ietf:params:xml:ns:caldav';

export interface XmlElement {
  /** The namespace URI ('' when there is none). */
  ns: string;
  name: string;
  /** Attributes by their local name. */
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The element's own text and CDATA, entities decoded. */
  text: string;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] !== '#') return ENTITIES[ref] ?? whole;
    const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1));
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The end of a tag that starts at `from` (the index of its `>`), quotes in attributes skipped. */
function tagEnd(xml: string, from: number): number {
  let quote = '';
  for (let i = from; i < xml.length; i++) {
    const c = xml[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '>') {
      return i;
    }
  }
  return -1;
}

/** The document's root element; throws on text that is not well-formed enough to read. */
export function parseXml(xml: string): XmlElement {
  const root: XmlElement = { ns: '', name: '#document', attrs: {}, children: [], text: '' };
  const stack: Array<{ element: XmlElement; scope: Map<string, string> }> = [{ element: root, scope: new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]) }];
  let i = 0;
  while (i < xml.length) {
    const open = xml.indexOf('<', i);
    const top = stack[stack.length - 1]!;
    if (open < 0 || open > i) {
      top.element.text += decode(xml.slice(i, open < 0 ? xml.length : open));
      if (open < 0) break;
    }
    if (xml.startsWith('<!--', open)) {
      const end = xml.indexOf('-->', open + 4);
      if (end < 0) throw new Error('unterminated comment');
      i = end + 3;
    } else if (xml.startsWith('<![CDATA[', open)) {
      const end = xml.indexOf(']]>', open + 9);
      if (end < 0) throw new Error('unterminated CDATA');
      top.element.text += xml.slice(open + 9, end);
      i = end + 3;
    } else if (xml[open + 1] === '?' || xml[open + 1] === '!') {
      const end = xml[open + 1] === '?' ? xml.indexOf('?>', open) + 1 : tagEnd(xml, open);
      if (end <= 0) throw new Error('unterminated declaration');
      i = end + 1;
    } else if (xml[open + 1] === '/') {
      const end = xml.indexOf('>', open);
      if (end < 0 || stack.length === 1) throw new Error('unexpected closing tag');
      stack.pop();
      i = end + 1;
    } else {
      const end = tagEnd(xml, open);
      if (end < 0) throw new Error('unterminated tag');
      const selfClosing = xml[end - 1] === '/';
      const inside = xml.slice(open + 1, selfClosing ? end - 1 : end);
      const qname = /^[^\s/>]+/.exec(inside)?.[0] ?? '';
      const scope = new Map(top.scope);
      const attrs: Record<string, string> = {};
      for (const m of inside.slice(qname.length).matchAll(/([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
        const [attr, value] = [m[1]!, decode(m[2] ?? m[3] ?? '')];
        if (attr === 'xmlns') scope.set('', value);
        else if (attr.startsWith('xmlns:')) scope.set(attr.slice(6), value);
        else attrs[attr.slice(attr.indexOf(':') + 1)] = value;
      }
      const colon = qname.indexOf(':');
      const prefix = colon < 0 ? '' : qname.slice(0, colon);
      const element: XmlElement = { ns: scope.get(prefix) ?? '', name: colon < 0 ? qname : qname.slice(colon + 1), attrs, children: [], text: '' };
      top.element.children.push(element);
      if (!selfClosing) stack.push({ element, scope });
      i = end + 1;
    }
  }
  const first = root.children[0];
  if (!first) throw new Error('no root element');
  return first;
}

export function child(element: XmlElement | undefined, ns: string, name: string): XmlElement | undefined {
  return element?.children.find((c) => c.ns === ns && c.name === name);
}

export function children(element: XmlElement | undefined, ns: string, name: string): XmlElement[] {
  return element?.children.filter((c) => c.ns === ns && c.name === name) ?? [];
}

/** The number in an `HTTP/1.1 404 Not Found` status line. */
function statusOf(element: XmlElement | undefined): number | null {
  const m = /HTTP\/\d(?:\.\d)?\s+(\d{3})/.exec(element?.text ?? '');
  return m ? Number(m[1]) : null;
}

/** One `<D:response>`: its href, its status, the properties found (2xx propstats), its error elements. */
export interface DavEntry {
  href: string;
  status: number;
  /** Found properties by `namespace + name`, e.g. `DAV:getetag`. */
  props: Map<string, XmlElement>;
  /** The local names of the `<D:error>` children (preconditions: `valid-sync-token`, …). */
  errors: string[];
}

export interface Multistatus {
  entries: DavEntry[];
  /** The top-level `<D:sync-token>` of a sync-collection answer (RFC 6578 §6.4). */
  syncToken: string | null;
}

export function readMultistatus(body: string): Multistatus {
  const root = parseXml(body);
  if (root.ns !== DAV || root.name !== 'multistatus') throw new Error(`not a multistatus (${root.name})`);
  const entries = children(root, DAV, 'response').map((response): DavEntry => {
    const props = new Map<string, XmlElement>();
    let found: number | null = null;
    let other: number | null = null;
    for (const propstat of children(response, DAV, 'propstat')) {
      const status = statusOf(child(propstat, DAV, 'status')) ?? 200;
      if (status >= 200 && status < 300) {
        found ??= status;
        for (const p of child(propstat, DAV, 'prop')?.children ?? []) props.set(p.ns + p.name, p);
      } else {
        other ??= status;
      }
    }
    return {
      href: (child(response, DAV, 'href')?.text ?? '').trim(),
      status: statusOf(child(response, DAV, 'status')) ?? found ?? other ?? 200,
      props,
      errors: (child(response, DAV, 'error')?.children ?? []).map((e) => e.name),
    };
  });
  const token = child(root, DAV, 'sync-token')?.text.trim();
  return { entries, syncToken: token ? token : null };
}

/** The precondition names of a `<D:error>` body (RFC 4918 §16), or none when it is not one. */
export function errorNames(body: string): string[] {
  try {
    const root = parseXml(body);
    return root.ns === DAV && root.name === 'error' ? root.children.map((c) => c.name) : [];
  } catch {
    return [];
  }
}

/** The text of a found property's `<D:href>` (current-user-principal, calendar-home-set), if any. */
export function hrefProp(entry: DavEntry | undefined, key: string): string | null {
  const href = child(entry?.props.get(key), DAV, 'href')?.text.trim();
  return href ? href : null;
}
