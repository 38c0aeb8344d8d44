/**
 * BODY[section] (RFC 3501 6.4.5): parsing of the section tokens, part numbering, HEADER/TEXT/MIME/
 * HEADER.FIELDS rules and the <offset.length> slice, with expectations written by hand.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fetchSection, parseMime, parseSectionSpec, partial } from '../../../src/imap/mime/index.ts';
import { ImapBad, type Token } from '../../../src/imap/protocol/types.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/mime/${name}`, import.meta.url));
const atom = (value: string): Token => ({ type: 'atom', value });
const list = (...items: Token[]): Token => ({ type: 'list', items });

test('parseSectionSpec: valid sections', () => {
  assert.deepEqual(parseSectionSpec([]), { part: [], text: '' });
  assert.deepEqual(parseSectionSpec([atom('1.2.3')]), { part: [1, 2, 3], text: '' });
  assert.deepEqual(parseSectionSpec([atom('header')]), { part: [], text: 'HEADER' });
  assert.deepEqual(parseSectionSpec([atom('2.MIME')]), { part: [2], text: 'MIME' });
  assert.deepEqual(parseSectionSpec([atom('3.text')]), { part: [3], text: 'TEXT' });
  assert.deepEqual(parseSectionSpec([atom('1.2.HEADER.FIELDS'), list(atom('From'), atom('To'))]), {
    part: [1, 2],
    text: 'HEADER.FIELDS',
    fields: ['From', 'To'],
  });
  assert.deepEqual(
    parseSectionSpec([atom('HEADER.FIELDS.NOT'), list({ type: 'string', value: Buffer.from('X-A'), literal: false })]),
    { part: [], text: 'HEADER.FIELDS.NOT', fields: ['X-A'] },
  );
});

test('parseSectionSpec: invalid sections throw ImapBad', () => {
  const bad: Token[][] = [
    [atom('0')],
    [atom('1.0')],
    [atom('01')],
    [atom('1.HEADER.FIELDS')],
    [atom('HEADER.FIELDS'), list()],
    [atom('HEADER'), list(atom('From'))],
    [atom('MIME')],
    [atom('1.FOO')],
    [atom('BODY')],
    [atom('1..2')],
    [atom('1.')],
    [atom('TEXT.1')],
    [list(atom('x'))],
    [atom('HEADER.FIELDS'), list(atom('Bad:Name'))],
    [atom('1'), atom('2')],
  ];
  for (const s of bad) assert.throws(() => parseSectionSpec(s), ImapBad, JSON.stringify(s));
});

test('sections of a multipart with a message/rfc822 part', () => {
  const raw = fixture('rfc822-attach.eml');
  const root = parseMime(raw);
  const get = (s: Token[]) => fetchSection(root, parseSectionSpec(s)).toString();
  assert.equal(fetchSection(root, { part: [], text: '' }).length, raw.length);
  assert.equal(get([atom('1')]), 'Forwarding the message below.');
  assert.equal(get([atom('1.MIME')]), 'Content-Type: text/plain\r\n\r\n');
  assert.ok(get([atom('2')]).startsWith('From: Carol'));
  assert.ok(get([atom('2.HEADER')]).startsWith('From: Carol') && get([atom('2.HEADER')]).endsWith('"orig-b"\r\n\r\n'));
  assert.ok(get([atom('2.TEXT')]).startsWith('--orig-b\r\n'));
  assert.equal(get([atom('2.MIME')]), 'Content-Type: message/rfc822\r\nContent-Description: forwarded message\r\n\r\n');
  assert.equal(get([atom('2.1')]), 'Original text.');
  assert.equal(get([atom('2.2.MIME')]), 'Content-Type: text/html; charset=utf-8\r\n\r\n');
  assert.equal(get([atom('2.HEADER.FIELDS'), list(atom('subject'), atom('X-None'))]), 'Subject: original\r\n\r\n');
  assert.equal(get([atom('1.HEADER')]), '', 'HEADER of a non-message part');
  assert.equal(get([atom('3')]), '', 'no such part');
  assert.equal(get([atom('2.5.1')]), '');
  // Zero-copy: sections are views of the stored message.
  assert.equal(fetchSection(root, { part: [2], text: '' }).buffer, raw.buffer);
});

test('sections of a single-part message: [1] is the body, [1.MIME] the header, nothing below', () => {
  const root = parseMime(fixture('simple.eml'));
  const body = fetchSection(root, { part: [1], text: '' }).toString();
  assert.equal(body, 'Hi Bob,\r\n\r\nThis is a simple message.\r\n-- \r\nAlice\r\n');
  assert.equal(fetchSection(root, { part: [], text: 'TEXT' }).toString(), body);
  assert.equal(
    fetchSection(root, { part: [1], text: 'MIME' }).toString(),
    fetchSection(root, { part: [], text: 'HEADER' }).toString(),
  );
  assert.equal(fetchSection(root, { part: [1, 1], text: '' }).length, 0);
  assert.equal(fetchSection(root, { part: [2], text: '' }).length, 0);
  assert.equal(
    fetchSection(root, { part: [], text: 'HEADER.FIELDS', fields: ['SUBJECT', 'from'] }).toString(),
    'From: Alice Example <alice@example.com>\r\nSubject: Hello\r\n there, folded\r\n\r\n',
  );
  const not = fetchSection(root, { part: [], text: 'HEADER.FIELDS.NOT', fields: ['received', 'return-path'] });
  assert.ok(not.toString().startsWith('Date: ') && not.toString().endsWith('7bit\r\n\r\n'));
});

test('digest: [1.1] is the body of the embedded single-part message, [1.1.MIME] its header', () => {
  const root = parseMime(fixture('digest.eml'));
  assert.equal(fetchSection(root, { part: [1, 1], text: '' }).toString(), 'Body one.');
  assert.equal(
    fetchSection(root, { part: [1, 1], text: 'MIME' }).toString(),
    'From: one@example.com\r\nSubject: first digest message\r\n\r\n',
  );
  assert.equal(fetchSection(root, { part: [1], text: 'MIME' }).toString(), '\r\n');
  assert.equal(fetchSection(root, { part: [3, 1], text: '' }).toString(), 'A text part inside a digest.');
});

test('partial <offset.length>', () => {
  const b = Buffer.from('0123456789');
  assert.equal(partial(b, 2, 3).toString(), '234');
  assert.equal(partial(b, 8, 10).toString(), '89');
  assert.equal(partial(b, 10, 1).length, 0);
  assert.equal(partial(b, 50, 1).length, 0);
  assert.equal(partial(b, 0, 0).length, 0);
});
