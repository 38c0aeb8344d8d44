import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ImapBad, ImapNo } from '../../../src/imap/protocol/types.ts';
import { parseSearch, parseSearchReturn, type SearchKey } from '../../../src/imap/search/parse.ts';
import { tokens } from './tokens.ts';

const root = (s: string, utf8Enabled = false): SearchKey => parseSearch(tokens(s), { utf8Enabled }).root;
const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;
const not = (key: SearchKey): SearchKey => ({ type: 'not', key });
const flag = (f: string): SearchKey => ({ type: 'flag', flag: f });
const bad = (s: string, re: RegExp) =>
  assert.throws(
    () => root(s),
    (e: unknown) => e instanceof ImapBad && re.test(e.text),
  );

describe('parseSearch: keys', () => {
  const cases: [string, SearchKey][] = [
    ['ALL', { type: 'all' }],
    ['ANSWERED', flag('\\Answered')],
    ['DELETED', flag('\\Deleted')],
    ['DRAFT', flag('\\Draft')],
    ['FLAGGED', flag('\\Flagged')],
    ['SEEN', flag('\\Seen')],
    ['UNANSWERED', not(flag('\\Answered'))],
    ['UNDELETED', not(flag('\\Deleted'))],
    ['UNDRAFT', not(flag('\\Draft'))],
    ['UNFLAGGED', not(flag('\\Flagged'))],
    ['UNSEEN', not(flag('\\Seen'))],
    ['KEYWORD $Forwarded', flag('$Forwarded')],
    ['UNKEYWORD Junk', not(flag('Junk'))],
    ['RECENT', { type: 'recent' }],
    ['NEW', { type: 'and', keys: [{ type: 'recent' }, not(flag('\\Seen'))] }],
    ['OLD', not({ type: 'recent' })],
    ['BEFORE 1-Feb-1994', { type: 'internaldate', op: 'before', day: day('1994-02-01') }],
    ['ON "01-feb-1994"', { type: 'internaldate', op: 'on', day: day('1994-02-01') }],
    ['SINCE 29-Feb-2024', { type: 'internaldate', op: 'since', day: day('2024-02-29') }],
    ['SENTBEFORE 31-Dec-1999', { type: 'sentdate', op: 'before', day: day('1999-12-31') }],
    ['SENTON 1-JAN-2000', { type: 'sentdate', op: 'on', day: day('2000-01-01') }],
    ['SENTSINCE 15-Jul-2021', { type: 'sentdate', op: 'since', day: day('2021-07-15') }],
    ['FROM alice', { type: 'header', name: 'from', value: 'alice' }],
    ['TO "Bob Smith"', { type: 'header', name: 'to', value: 'Bob Smith' }],
    ['CC carol', { type: 'header', name: 'cc', value: 'carol' }],
    ['BCC dave', { type: 'header', name: 'bcc', value: 'dave' }],
    ['SUBJECT "héllo wörld"', { type: 'header', name: 'subject', value: 'héllo wörld' }],
    ['HEADER X-Spam-Flag YES', { type: 'header', name: 'x-spam-flag', value: 'YES' }],
    ['HEADER "List-Id" ""', { type: 'header', name: 'list-id', value: '' }],
    ['BODY {5}\r\nhello', { type: 'body', value: 'hello' }],
    ['TEXT "a \\"quoted\\" word"', { type: 'text', value: 'a "quoted" word' }],
    ['LARGER 1024', { type: 'size', op: 'larger', size: 1024 }],
    ['SMALLER 0', { type: 'size', op: 'smaller', size: 0 }],
    [
      'UID 1:3,7,9:*',
      {
        type: 'uid',
        set: [
          [1, 3],
          [7, 7],
          [9, '*'],
        ],
      },
    ],
    ['1:*', { type: 'seq', set: [[1, '*']] }],
    ['*', { type: 'seq', set: [[Number.POSITIVE_INFINITY, '*']] }],
    ['MODSEQ 620162338', { type: 'modseq', modseq: 620162338n }],
    [
      'MODSEQ "/flags/\\\\draft" all 9223372036854775807',
      { type: 'modseq', modseq: 9223372036854775807n, entry: { name: '/flags/\\draft', kind: 'all' } },
    ],
  ];
  for (const [input, expected] of cases) it(input.replace(/\r\n/g, ' '), () => assert.deepEqual(root(input), expected));

  it('keys are case-insensitive', () => {
    assert.deepEqual(root('unseen'), not(flag('\\Seen')));
    assert.deepEqual(root('Header subject x'), { type: 'header', name: 'subject', value: 'x' });
    assert.deepEqual(root('uid 5'), { type: 'uid', set: [[5, 5]] });
  });
});

describe('parseSearch: combinations', () => {
  it('ANDs several keys and parenthesized lists', () => {
    assert.deepEqual(root('SEEN (FLAGGED DELETED)'), {
      type: 'and',
      keys: [flag('\\Seen'), { type: 'and', keys: [flag('\\Flagged'), flag('\\Deleted')] }],
    });
    assert.deepEqual(root('((SEEN))'), flag('\\Seen'));
  });
  it('nests OR and NOT', () => {
    assert.deepEqual(root('OR (FROM a TO b) NOT OR SEEN DRAFT'), {
      type: 'or',
      left: {
        type: 'and',
        keys: [
          { type: 'header', name: 'from', value: 'a' },
          { type: 'header', name: 'to', value: 'b' },
        ],
      },
      right: not({ type: 'or', left: flag('\\Seen'), right: flag('\\Draft') }),
    });
    assert.deepEqual(root('NOT NOT SEEN'), flag('\\Seen'));
    assert.deepEqual(root('OR OR 1 2 3'), {
      type: 'or',
      left: { type: 'or', left: { type: 'seq', set: [[1, 1]] }, right: { type: 'seq', set: [[2, 2]] } },
      right: { type: 'seq', set: [[3, 3]] },
    });
  });
  it('reports MODSEQ and content needs, also from inside lists', () => {
    const p = parseSearch(tokens('OR (MODSEQ 5 SEEN) ALL'), {});
    assert.equal(p.usesModseq, true);
    assert.equal(p.needsHeaders, false);
    assert.equal(p.needsBody, false);
    const q = parseSearch(tokens('NOT (SENTON 1-Jan-2020)'), {});
    assert.deepEqual([q.usesModseq, q.needsHeaders, q.needsBody], [false, true, false]);
    const r = parseSearch(tokens('OR SEEN (BODY x)'), {});
    assert.deepEqual([r.needsHeaders, r.needsBody], [false, true]);
    const t = parseSearch(tokens('TEXT x'), {});
    assert.deepEqual([t.needsHeaders, t.needsBody], [true, true]);
  });
});

describe('parseSearch: CHARSET', () => {
  it('accepts UTF-8 and US-ASCII in any case', () => {
    assert.equal(parseSearch(tokens('CHARSET utf-8 SUBJECT x'), {}).charset, 'UTF-8');
    assert.equal(parseSearch(tokens('CHARSET "US-ASCII" ALL'), {}).charset, 'US-ASCII');
    assert.equal(parseSearch(tokens('ALL'), {}).charset, null);
  });
  it('refuses other charsets with NO [BADCHARSET]', () => {
    assert.throws(
      () => parseSearch(tokens('CHARSET KOI8-R SUBJECT x'), {}),
      (e: unknown) => e instanceof ImapNo && e.code === 'BADCHARSET (UTF-8 US-ASCII)',
    );
  });
  it('after UTF8=ACCEPT tolerates UTF-8 but not US-ASCII', () => {
    assert.equal(parseSearch(tokens('CHARSET UTF-8 ALL'), { utf8Enabled: true }).charset, 'UTF-8');
    assert.throws(() => parseSearch(tokens('CHARSET US-ASCII ALL'), { utf8Enabled: true }), ImapBad);
  });
  it('is only allowed first and needs a key after it', () => {
    bad('ALL CHARSET UTF-8', /unknown search key CHARSET/);
    bad('CHARSET UTF-8', /at least one search key/);
    bad('CHARSET', /charset name/);
  });
});

describe('parseSearch: errors', () => {
  it('unknown key', () => bad('FOO', /unknown search key FOO/));
  it('nothing at all', () => bad('', /at least one search key/));
  it('missing arguments', () => {
    for (const k of ['FROM', 'TO', 'CC', 'BCC', 'SUBJECT', 'BODY', 'TEXT', 'KEYWORD', 'UNKEYWORD', 'LARGER']) {
      bad(k, new RegExp(`SEARCH ${k} needs`));
    }
    for (const k of ['BEFORE', 'ON', 'SINCE', 'SENTBEFORE', 'SENTON', 'SENTSINCE']) bad(k, /needs a date/);
    bad('HEADER Subject', /HEADER needs a string/);
    bad('UID', /needs a UID set/);
    bad('NOT', /NOT needs a search key/);
    bad('OR SEEN', /OR needs two/);
    bad('OR', /OR needs two/);
    bad('MODSEQ', /needs a mod-sequence/);
    bad('(SEEN FROM)', /FROM needs/);
  });
  it('bad dates', () => {
    bad('SINCE 32-Foo-2020', /invalid date/);
    bad('SINCE 32-Jan-2020', /invalid date/);
    bad('BEFORE 29-Feb-2023', /invalid date/);
    bad('ON 2020-01-01', /invalid date/);
    bad('SENTON 1-Jan-20', /invalid date/);
    bad('ON (1-Jan-2020)', /not a list/);
  });
  it('bad numbers', () => {
    bad('LARGER -1', /invalid number/);
    bad('SMALLER 1k', /invalid number/);
    bad('LARGER 99999999999999999', /invalid number/);
    bad('MODSEQ 9223372036854775808', /invalid value/);
    bad('MODSEQ "/flags/x" bogus 5', /bad entry type/);
    bad('MODSEQ "/other" all 5', /bad entry name/);
  });
  it('bad sequence sets', () => {
    bad('1:2:3', /Invalid sequence set/);
    bad('0', /Invalid sequence set/);
    bad('UID 1,,2', /Invalid sequence set/);
    bad('UID abc', /Invalid sequence set/);
  });
  it('empty lists and strings in key position', () => {
    bad('()', /empty parenthesized list/);
    bad('"SEEN"', /expected a search key/);
    bad('HEADER "" x', /field name/);
  });
});

describe('parseSearchReturn', () => {
  it('splits RETURN (...) off', () => {
    const r = parseSearchReturn(tokens('RETURN (min COUNT SAVE) UNSEEN'));
    assert.deepEqual(r.options, ['MIN', 'COUNT', 'SAVE']);
    assert.deepEqual(r.rest, tokens('UNSEEN'));
  });
  it('RETURN () means ALL; no RETURN is null', () => {
    assert.deepEqual(parseSearchReturn(tokens('return () ALL')).options, ['ALL']);
    const none = parseSearchReturn(tokens('ALL'));
    assert.equal(none.options, null);
    assert.deepEqual(none.rest, tokens('ALL'));
  });
  it('rejects unknown options and a missing list', () => {
    assert.throws(() => parseSearchReturn(tokens('RETURN (PARTIAL 1:10) ALL')), ImapBad);
    assert.throws(() => parseSearchReturn(tokens('RETURN ALL')), ImapBad);
  });
});
