// Travel documents the tests make themselves, never someone's real ticket: IATA boarding-pass
// strings (BCBP), their barcodes drawn by Debian's zint, a PDF holding one as an image with the
// flight's times in its text, the barcode as a PNG, an Apple Wallet pass (.pkpass, a zip), and
// the hostile kind (a corrupt PDF, a zip bomb). Everything is built in memory, byte by byte.
import { execFileSync } from 'node:child_process';
import { constants, deflateRawSync, deflateSync } from 'node:zlib';

export interface BoardingPass {
  /** SURNAME/GIVEN */
  passenger: string;
  pnr: string;
  from: string;
  to: string;
  carrier: string;
  flight: string;
  /** The flight's date; BCBP keeps only its day of the year. */
  date: string;
  seat: string;
}

/** The mandatory items of an IATA Resolution 792 boarding pass (format M, one leg). */
export function bcbp(p: BoardingPass): string {
  const day = new Date(`${p.date}T00:00:00Z`);
  const ordinal = Math.round((day.getTime() - Date.UTC(day.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
  return `M1${p.passenger.padEnd(20)}E${p.pnr.padEnd(7)}${p.from}${p.to}${p.carrier.padEnd(3)}${p.flight.padStart(4, '0').padEnd(5)}`
    + `${String(ordinal).padStart(3, '0')}Y${p.seat.padStart(4, '0')}0025 100`;
}

/** The modules of a 2D barcode (true = dark), rows of columns, from `zint --dump`. */
export function barcode(symbology: 'AZTEC' | 'QRCODE', data: string): boolean[][] {
  const dump = execFileSync('zint', ['-b', symbology, '--dump', '-d', data], { encoding: 'utf8' });
  const rows = dump.trim().split('\n');
  // zint pads each row's bits to whole hex digits; these symbols are as wide as they are tall.
  const width = rows.length;
  return rows.map((row) => [...row.replace(/\s/g, '')].flatMap((h) => [...parseInt(h, 16).toString(2).padStart(4, '0')].map((b) => b === '1')).slice(0, width));
}

/** The barcode as 8-bit grey pixels, `scale` pixels a module, with a quiet zone of 4 modules. */
function pixels(modules: boolean[][], scale = 4): { width: number; height: number; rows: Buffer[] } {
  const quiet = 4;
  const width = (modules[0]!.length + 2 * quiet) * scale;
  const height = (modules.length + 2 * quiet) * scale;
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(width, 255);
    const my = Math.floor(y / scale) - quiet;
    for (let x = 0; x < width; x++) {
      const mx = Math.floor(x / scale) - quiet;
      if (modules[my]?.[mx]) row[x] = 0;
    }
    rows.push(row);
  }
  return { width, height, rows };
}

/** A PDF of one page: `lines` of text (Helvetica), and the barcode drawn above them when given. */
export function pdf(lines: string[], modules?: boolean[][]): Buffer {
  const escape = (s: string) => s.replace(/[\\()]/g, (c) => `\\${c}`);
  const text = lines.map((l, i) => `BT /F1 12 Tf 50 ${380 - i * 18} Td (${escape(l)}) Tj ET`).join('\n');
  const objects: Buffer[] = [
    Buffer.from('<< /Type /Catalog /Pages 2 0 R >>'),
    Buffer.from('<< /Type /Pages /Kids [3 0 R] /Count 1 >>'),
    Buffer.from(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >>${modules ? ' /XObject << /Im1 6 0 R >>' : ''} >> >>`),
  ];
  const content = Buffer.from(`${modules ? 'q 220 0 0 220 50 420 cm /Im1 Do Q\n' : ''}${text}`);
  objects.push(Buffer.concat([Buffer.from(`<< /Length ${content.length} >>\nstream\n`), content, Buffer.from('\nendstream')]));
  objects.push(Buffer.from('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'));
  if (modules) {
    const image = pixels(modules);
    const data = deflateSync(Buffer.concat(image.rows));
    objects.push(Buffer.concat([
      Buffer.from(`<< /Type /XObject /Subtype /Image /Width ${image.width} /Height ${image.height} /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length ${data.length} >>\nstream\n`),
      data, Buffer.from('\nendstream'),
    ]));
  }
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n')];
  let length = parts[0]!.length;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(length);
    const part = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), body, Buffer.from('\nendobj\n')]);
    parts.push(part);
    length += part.length;
  });
  const xref = [`xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`, ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`),
    `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${length}\n%%EOF\n`].join('');
  parts.push(Buffer.from(xref));
  return Buffer.concat(parts);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The barcode as a greyscale PNG. */
export function png(modules: boolean[][]): Buffer {
  const image = pixels(modules);
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([head, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(image.width, 0);
  header.writeUInt32BE(image.height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // greyscale
  const raw = Buffer.concat(image.rows.flatMap((row) => [Buffer.from([0]), row]));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

export interface ZipEntry {
  name: string;
  data: Buffer;
  /** Stored as written, not deflated. */
  stored?: boolean;
  /** `data` is deflated already and inflates to this many bytes (its CRC is left 0). */
  inflatesTo?: number;
}

/** A zip archive (what a .pkpass is), deflated entries unless `stored`. */
export function zip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const body = entry.stored || entry.inflatesTo !== undefined ? entry.data : deflateRawSync(entry.data, { level: 9 });
    const fields = (header: Buffer, at: number) => {
      header.writeUInt16LE(20, at); // version needed
      header.writeUInt16LE(0, at + 2); // flags
      header.writeUInt16LE(entry.stored ? 0 : 8, at + 4);
      header.writeUInt32LE(0, at + 6); // time, date
      header.writeUInt32LE(entry.inflatesTo === undefined ? crc32(entry.data) : 0, at + 10);
      header.writeUInt32LE(body.length, at + 14);
      header.writeUInt32LE((entry.inflatesTo ?? entry.data.length) >>> 0, at + 18);
      header.writeUInt16LE(name.length, at + 22);
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    fields(local, 4);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4); // version made by
    fields(central, 6);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** An Apple Wallet boarding pass for `p`, unsigned (the extractor reads pass.json and the barcode). */
export function pkpass(p: BoardingPass, departure: string): Buffer {
  const pass = {
    formatVersion: 1, passTypeIdentifier: 'pass.test.tripcal', serialNumber: `${p.pnr}-${p.flight}`, teamIdentifier: 'TRIPCALTST',
    organizationName: 'Tripcal Test Air', description: 'Boarding pass',
    barcodes: [{ format: 'PKBarcodeFormatAztec', message: bcbp(p), messageEncoding: 'iso-8859-1' }],
    boardingPass: {
      transitType: 'PKTransitTypeAir',
      primaryFields: [{ key: 'origin', label: p.from, value: p.from }, { key: 'destination', label: p.to, value: p.to }],
      auxiliaryFields: [{ key: 'departure', label: 'Departure', value: departure }, { key: 'seat', label: 'Seat', value: p.seat }],
    },
  };
  return zip([{ name: 'pass.json', data: Buffer.from(JSON.stringify(pass)) }]);
}

/** An Apple Wallet event ticket at a place given only by its coordinates, from `start` to `end` (with offsets, as passes give them). */
export function eventPass(name: string, start: string, end: string, latitude: number, longitude: number): Buffer {
  const pass = {
    formatVersion: 1, passTypeIdentifier: 'pass.test.tripcal', serialNumber: `EV-${start}`, teamIdentifier: 'TRIPCALTST',
    organizationName: 'Tripcal Test Hall', description: name, relevantDate: start, expirationDate: end,
    locations: [{ latitude, longitude, relevantText: 'Tripcal Test Hall' }],
    barcodes: [{ format: 'PKBarcodeFormatQR', message: `TICKET-${start}`, messageEncoding: 'iso-8859-1' }],
    eventTicket: { primaryFields: [{ key: 'event', label: 'Event', value: name }] },
  };
  return zip([{ name: 'pass.json', data: Buffer.from(JSON.stringify(pass)) }]);
}

/**
 * A .pkpass whose pass.json inflates to `megabytes` MB of spaces from about 1/1000 of that: one
 * deflated MB ending in a full flush (byte-aligned, no history needed) repeated, then a final
 * empty block. Its CRC is not computed (a bomb need not be honest).
 */
export function zipBomb(megabytes: number): Buffer {
  const block = deflateRawSync(Buffer.alloc(1 << 20, 0x20), { level: 9, finishFlush: constants.Z_FULL_FLUSH });
  const body = Buffer.concat([...Array<Buffer>(megabytes).fill(block), Buffer.from([0x03, 0x00])]);
  return zip([{ name: 'pass.json', data: body, inflatesTo: megabytes << 20 }]);
}

/** A zip of `count` small entries (a pass has a handful). */
export function manyEntries(count: number): Buffer {
  return zip(Array.from({ length: count }, (_, i) => ({ name: `f${i}.json`, data: Buffer.from('{}') })));
}
