/**
 * Hand-written expectations from RFC 3501 7.4.2 / RFC 2045-2046 / RFC 2231 for the parser, BODY,
 * BODYSTRUCTURE and ENVELOPE (values in the normal form of imapWire.ts, so atoms vs strings is not at issue).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { bodyStructure, envelope, parsedMessage, parseMime } from '../../../src/imap/mime/index.ts';
import type { MimeNode } from '../../../src/imap/mime/parse.ts';
import { flat, normalise, show } from './imapWire.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/mime/${name}`, import.meta.url));
const render = (v: Parameters<typeof normalise>[0]) => show(normalise(v));

test('simple text/plain: BODYSTRUCTURE with quoted params, lines, size', () => {
  const m = parsedMessage(fixture('simple.eml'));
  assert.equal(
    render(m.bodyStructure()),
    '("text" "plain" ("charset" "utf-8" "format" "flowed") NIL NIL "7bit" 50 5 NIL NIL NIL NIL)',
  );
  assert.equal(render(m.body()), '("text" "plain" ("charset" "utf-8" "format" "flowed") NIL NIL "7bit" 50 5)');
  assert.equal(m.root.bodyEnd - m.root.bodyStart, 50);
});

test('no Content-Type: text/plain; charset=us-ascii (RFC 2045 5.2)', () => {
  assert.equal(
    render(bodyStructure(parseMime(fixture('no-content-type.eml')), true)),
    '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 30 2 NIL NIL NIL NIL)',
  );
});

test('multipart/alternative: parts, subtype, boundary param; preamble and epilogue ignored', () => {
  assert.equal(
    render(bodyStructure(parseMime(fixture('alternative.eml')), true)),
    '(("text" "plain" ("charset" "us-ascii") NIL NIL "quoted-printable" 42 2 NIL NIL NIL NIL)' +
      ' ("text" "html" ("charset" "utf-8") NIL NIL "quoted-printable" 57 1 NIL NIL NIL NIL)' +
      ' "alternative" ("boundary" "=_alt_boundary") NIL NIL NIL)',
  );
});

test('nested mixed: Content-ID, disposition, RFC 2231 (IMAP form and decoded), language, location, md5', () => {
  const root = parseMime(fixture('mixed-nested.eml'));
  const [alt, pdf, notes] = root.children as [MimeNode, MimeNode, MimeNode];
  const image = alt.children[1]!.children[1]!;
  assert.equal(render(bodyStructure(image, true)).includes('"<logo@example.com>" NIL "base64" 98 NIL'), true);
  assert.equal(
    render(bodyStructure(pdf, true)),
    '("application" "pdf" ("name*" "UTF-8\'\'R%C3%A9sum%C3%A9.pdf") NIL "My CV" "base64" 180' +
      ' "Q2hlY2sgSW50ZWdyaXR5IQ==" ("attachment" ("size" "1234" "filename*" "UTF-8\'\'R%C3%A9sum%C3%A9.pdf"))' +
      ' ("fr" "en-GB") "http://example.com/cv.pdf")',
  );
  assert.equal(pdf.decodedParams.get('name'), 'Résumé.pdf');
  assert.equal(pdf.disposition?.decodedParams.get('filename'), 'Résumé.pdf');
  assert.equal(notes.disposition?.decodedParams.get('filename'), 'longname.txt');
  assert.deepEqual(root.language, ['en']);
  assert.equal(root.children.length, 3);
});

test('message/rfc822: envelope, body structure and line count of the embedded message', () => {
  const root = parseMime(fixture('rfc822-attach.eml'));
  const part = root.children[1]!;
  assert.ok(part.message);
  assert.equal(part.message.children.length, 2);
  assert.equal(
    render(bodyStructure(part, false)),
    '("message" "rfc822" NIL NIL "forwarded message" "7bit" 386 ("Thu, 6 Jun 2024 09:00:00 +0000" "original"' +
      ' (("Carol" NIL "carol" "example.net")) (("Carol" NIL "carol" "example.net")) (("Carol" NIL "carol" "example.net"))' +
      ' (("Alice" NIL "alice" "example.com")) NIL NIL NIL "<orig@example.net>")' +
      ' (("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 14 0) ("text" "html" ("charset" "utf-8") NIL NIL "7bit" 21 0)' +
      ' "alternative") 17)',
  );
});

test('multipart/digest: parts without Content-Type default to message/rfc822', () => {
  const root = parseMime(fixture('digest.eml'));
  assert.deepEqual(
    root.children.map((c) => `${c.type}/${c.subtype}`),
    ['message/rfc822', 'message/rfc822', 'text/plain'],
  );
  assert.equal(render(envelope(root.children[0]!.message!)).startsWith('(NIL "first digest message"'), true);
});

test('ENVELOPE: encoded words stay raw, raw UTF-8 stays UTF-8, folding removed, sender/reply-to from From', () => {
  assert.equal(
    render(envelope(parseMime(fixture('encoded-words.eml')))),
    '("Sun, 9 Jun 2024 10:00:00 +0200" "=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?="' +
      ' (("=?UTF-8?Q?Andr=C3=A9_M=C3=BCller?=" NIL "andre" "example.de")) (("=?UTF-8?Q?Andr=C3=A9_M=C3=BCller?=" NIL "andre" "example.de"))' +
      ' (("=?UTF-8?Q?Andr=C3=A9_M=C3=BCller?=" NIL "andre" "example.de")) (("=?ISO-8859-1?B?SvxyZ2Vu?=" NIL "juergen" "example.de"))' +
      ' NIL NIL NIL "<enc@example.de>")',
  );
  const raw8 = flat(envelope(parseMime(fixture('raw-utf8.eml')))) as unknown[];
  assert.equal(raw8[1], 'Grüße — raw UTF-8 in headers');
  assert.deepEqual(raw8[5], [['山田太郎', null, 'taro', 'example.jp']]);
  assert.equal((envelope(parseMime(fixture('simple.eml'))) as unknown[])[1], 'Hello there, folded');
});

test('ENVELOPE: groups, routes, comments and broken addresses', () => {
  const env = flat(envelope(parseMime(fixture('groups.eml')))) as unknown[];
  assert.deepEqual(env[5], [
    [null, null, 'undisclosed-recipients', null],
    [null, null, null, null],
  ]);
  assert.deepEqual(env[6], [
    [null, null, 'Team', null],
    [null, null, 'a', 'example.com'],
    ['B Person', null, 'b', 'example.com'],
    [null, null, null, null],
    [null, null, 'x', 'example.com'],
  ]);
  assert.deepEqual(env[7], [
    [null, '@route1.example,@route2.example', 'routed', 'example.com'],
    [null, null, 'nodomain', 'MISSING_DOMAIN'],
    ['broken', null, 'unterminated', 'SYNTAX_ERROR'],
  ]);
  assert.deepEqual(env[2], [['Alice (the sender)', null, 'alice', 'example.com']]);
  assert.equal(env[8], '<a@example.com> <b@example.com>');
});

test('broken messages never throw and give sensible trees', () => {
  const nfb = parseMime(fixture('no-final-boundary.eml'));
  assert.equal(nfb.children.length, 2);
  assert.equal(nfb.children[1]!.bodyEnd, nfb.raw.length, 'last part runs to the end');
  const nbl = parseMime(fixture('no-blank-line.eml'));
  assert.equal(nbl.bodyStart, nbl.raw.length, 'no empty line: all header (as Dovecot)');
  const ho = parseMime(fixture('header-only.eml'));
  assert.equal(ho.size, 0);
  assert.equal(ho.headers.length, 3);
  const nb = parseMime(fixture('multipart-no-boundary.eml'));
  assert.equal(nb.children.length, 1);
  assert.equal(nb.children[0]!.size, 0);
  for (const junk of ['', '\r\n', ':', 'Content-Type: multipart/mixed; boundary=x\r\n\r\n--x', '--\r\n\r\n\r\n']) {
    const n = parseMime(Buffer.from(junk));
    assert.ok(bodyStructure(n, true) && envelope(n));
  }
  const deep = `${'Content-Type: message/rfc822\r\n\r\n'.repeat(200)}x`;
  assert.ok(bodyStructure(parseMime(Buffer.from(deep)), true), 'deep nesting is cut, not a stack overflow');
});

test('bare LF: the same tree as the CRLF form, sizes in raw bytes', () => {
  const lf = parseMime(fixture('bare-lf.eml'));
  const crlf = parseMime(Buffer.from(fixture('bare-lf.eml').toString().replace(/\n/g, '\r\n')));
  const shape = (n: MimeNode): unknown => [n.type, n.subtype, n.params, n.children.map(shape)];
  assert.deepEqual(shape(lf), shape(crlf));
  assert.equal(lf.raw.subarray(lf.children[0]!.bodyStart, lf.children[0]!.bodyEnd).toString(), 'LF only');
});

test('mixed-case types keep their spelling; text without charset gets us-ascii appended', () => {
  const root = parseMime(fixture('mixed-case.eml'));
  assert.equal(
    render(bodyStructure(root, false)),
    '(("Text" "PLAIN" ("CharSet" "UTF-8" "Name" "=?UTF-8?Q?caf=C3=A9?=.txt") NIL NIL "Quoted-Printable" 9 0)' +
      ' ("application" "octet-stream" NIL NIL NIL "7bit" 27) "MIXED")',
  );
  assert.equal(root.children[0]!.decodedParams.get('name'), 'café.txt');
});
