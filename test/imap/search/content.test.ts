import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageContent } from '../../../src/imap/search/content.ts';
import { dayOf, parseSearchDate, sentDay } from '../../../src/imap/search/dates.ts';

const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;
const content = (text: string) => new MessageContent(Buffer.from(text.replace(/\n/g, '\r\n'), 'utf8'));

describe('dates', () => {
  it('search dates', () => {
    assert.equal(parseSearchDate('1-Jan-1970'), 0);
    assert.equal(parseSearchDate('09-sep-2021'), day('2021-09-09'));
    assert.equal(parseSearchDate('31-Apr-2021'), null);
    assert.equal(parseSearchDate('1-Sept-2021'), null);
  });
  it('Date: fields, in their own zone, with obsolete forms', () => {
    assert.equal(sentDay('Fri, 21 Nov 1997 23:55:06 -0600'), day('1997-11-21'));
    assert.equal(sentDay('21 Nov 97 09:55:06 GMT'), day('1997-11-21'));
    assert.equal(sentDay('Sat, 1 Jan 05 00:00 +0900 (JST)'), day('2005-01-01'));
    assert.equal(sentDay('Thu, 01 January 2015 10:00:00 +0000'), day('2015-01-01'));
    assert.equal(sentDay('2020-02-03T04:05:06Z'), day('2020-02-03'));
    assert.equal(sentDay('yesterday'), null);
    assert.equal(sentDay('31 Feb 2020 10:00 +0000'), null);
  });
  it('dayOf applies the zone offset', () => {
    assert.equal(dayOf(-1), -1);
    assert.equal(dayOf(Date.parse('2020-06-01T23:30:00Z'), 60), day('2020-06-02'));
  });
});

describe('MessageContent', () => {
  it('a message with a header only, or a body only', () => {
    const h = content('Subject: only a header');
    assert.deepEqual(h.header('subject'), ['only a header']);
    assert.equal(h.body(), '');
    const b = content('\nBody Without Header\n');
    assert.deepEqual(b.header('subject'), []);
    assert.equal(b.body(), 'body without header\r\n');
  });
  it('keeps every occurrence of a repeated field, decodes adjacent encoded words', () => {
    const c = content('Received: one\nReceived: two\n  folded\nSubject: =?utf-8?q?a?= =?utf-8?q?b?=\n\nx');
    assert.deepEqual(c.header('received'), ['one', 'two  folded']);
    assert.deepEqual(c.header('subject'), ['ab']);
    assert.match(c.headers(), /^received: one\nreceived: two {2}folded\nsubject: ab$/);
  });
  it('reads raw UTF-8 header bytes, else Latin-1', () => {
    assert.deepEqual(content('Subject: Grüße\n\n').header('subject'), ['grüße']);
    const latin1 = new MessageContent(Buffer.from('Subject: caf\xe9\r\n\r\n', 'latin1'));
    assert.deepEqual(latin1.header('subject'), ['café']);
  });
  it('defaults: no Content-Type is text/plain, a multipart without boundary is text, digest parts are messages', () => {
    assert.equal(content('Content-Type: multipart/mixed\n\nplain text').body(), 'plain text');
    const digest = content(
      'Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: inner\n\ninner body\n--d--\n',
    );
    assert.match(digest.body(), /subject: inner\ninner body/);
    const untyped = content('Content-Type: multipart/mixed; boundary=b\n\n--b\n\nno headers here\n--b--\n');
    assert.equal(untyped.body(), 'no headers here');
  });
  it('an unknown charset falls back to UTF-8; an image part is skipped', () => {
    const c = content(
      'Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; charset=x-unknown\n\nÜber\n--b\nContent-Type: image/png\n\nPNGTEXT\n--b--\n',
    );
    assert.equal(c.body(), 'über');
  });
});
