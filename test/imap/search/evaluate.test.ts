import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { type SearchContext, type SearchMessage, searchMessages } from '../../../src/imap/search/evaluate.ts';
import { parseSearch } from '../../../src/imap/search/parse.ts';
import { tokens } from './tokens.ts';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/search/${name}.eml`, import.meta.url));
const FILES = ['plain-utf8', 'latin1-qp', 'utf8-base64', 'multipart'];
const RAW = FILES.map(fixture);
const msg = (i: number, m: Omit<SearchMessage, 'seq' | 'size'>): SearchMessage => ({
  ...m,
  seq: i + 1,
  size: RAW[i]!.length,
});
const MESSAGES: SearchMessage[] = [
  msg(0, {
    uid: 10,
    modseq: 100,
    flags: new Set(['\\Seen', '$Forwarded']),
    recent: false,
    internalDate: Date.parse('2020-06-01T10:00:00Z'),
  }),
  msg(1, {
    uid: 20,
    modseq: 200,
    flags: new Set(['\\Answered', '\\Seen', 'Junk']),
    recent: true,
    internalDate: Date.parse('2020-06-02T00:00:00Z'),
  }),
  msg(2, {
    uid: 30,
    modseq: 300,
    flags: new Set(),
    recent: true,
    internalDate: Date.parse('2020-06-02T23:59:59.999Z'),
  }),
  msg(3, {
    uid: 45,
    modseq: 400,
    flags: new Set(['\\Flagged', '\\Draft', '\\Deleted', 'NonJunk']),
    recent: false,
    internalDate: Date.parse('2020-06-04T06:59:59Z'),
  }),
];

/** Runs `criteria` and returns the matching sequence numbers and the sequence numbers whose bytes were loaded. */
async function run(criteria: string, extra: Partial<SearchContext> = {}, messages = MESSAGES) {
  const loaded: number[] = [];
  const ctx: SearchContext = {
    messageCount: messages.length,
    maxUid: 45,
    loadRaw: async (m) => {
      loaded.push(m.seq);
      return RAW[m.seq - 1]!;
    },
    ...extra,
  };
  const hits = await searchMessages(parseSearch(tokens(criteria), {}), messages, ctx);
  return { seqs: hits.map((m) => m.seq), loaded };
}
const expect = async (criteria: string, seqs: number[], extra: Partial<SearchContext> = {}) =>
  assert.deepEqual((await run(criteria, extra)).seqs, seqs, criteria);

describe('searchMessages: metadata keys', () => {
  it('ALL and flags', async () => {
    await expect('ALL', [1, 2, 3, 4]);
    await expect('SEEN', [1, 2]);
    await expect('UNSEEN', [3, 4]);
    await expect('ANSWERED', [2]);
    await expect('UNANSWERED', [1, 3, 4]);
    await expect('FLAGGED', [4]);
    await expect('UNFLAGGED', [1, 2, 3]);
    await expect('DELETED', [4]);
    await expect('UNDELETED', [1, 2, 3]);
    await expect('DRAFT', [4]);
    await expect('UNDRAFT', [1, 2, 3]);
  });
  it('keywords match case-insensitively', async () => {
    await expect('KEYWORD $forwarded', [1]);
    await expect('KEYWORD JUNK', [2]);
    await expect('UNKEYWORD junk', [1, 3, 4]);
    await expect('KEYWORD nothing', []);
    const lower = [{ ...MESSAGES[0]!, flags: new Set(['\\seen']) }];
    assert.deepEqual((await run('SEEN', {}, lower)).seqs, [1]);
  });
  it('RECENT, NEW, OLD', async () => {
    await expect('RECENT', [2, 3]);
    await expect('NEW', [3]);
    await expect('OLD', [1, 4]);
  });
  it('sequence sets with *', async () => {
    await expect('2:*', [2, 3, 4]);
    await expect('*', [4]);
    await expect('4:2', [2, 3, 4]);
    await expect('1,3', [1, 3]);
    await expect('5:9', []);
  });
  it('UID sets with *, also past the highest UID', async () => {
    await expect('UID 30:*', [3, 4]);
    await expect('UID *', [4]);
    await expect('UID 46:*', [4]);
    await expect('UID 1000:*', [4]);
    await expect('UID 11:19', []);
    await expect('UID 1:10,20', [1, 2]);
  });
  it('LARGER and SMALLER are strict', async () => {
    const size = MESSAGES[0]!.size;
    const sizes = MESSAGES.map((m) => m.size);
    const over = sizes.flatMap((s, i) => (s > size ? [i + 1] : []));
    const under = sizes.flatMap((s, i) => (s < size ? [i + 1] : []));
    await expect(`LARGER ${size}`, over);
    await expect(`SMALLER ${size}`, under);
    await expect(`NOT LARGER ${size - 1}`, under);
    await expect('LARGER 0', [1, 2, 3, 4]);
  });
  it('MODSEQ matches mod-sequences >= n and is reported', async () => {
    await expect('MODSEQ 200', [2, 3, 4]);
    await expect('MODSEQ 401', []);
    await expect('MODSEQ "/flags/\\\\seen" priv 300', [3, 4]);
    assert.equal(parseSearch(tokens('OR SEEN MODSEQ 1'), {}).usesModseq, true);
  });
});

describe('searchMessages: INTERNALDATE days', () => {
  it('SINCE includes the day, BEFORE excludes it, ON is the day (UTC)', async () => {
    await expect('SINCE 2-Jun-2020', [2, 3, 4]);
    await expect('BEFORE 2-Jun-2020', [1]);
    await expect('ON 2-Jun-2020', [2, 3]);
    await expect('ON 4-Jun-2020', [4]);
    await expect('SINCE 5-Jun-2020', []);
    await expect('BEFORE 1-Jun-2020', []);
  });
  it('uses the configured zone', async () => {
    await expect('ON 2-Jun-2020', [2], { timezoneOffsetMinutes: 120 });
    await expect('ON 3-Jun-2020', [3], { timezoneOffsetMinutes: 120 });
    await expect('ON 1-Jun-2020', [1, 2], { timezoneOffsetMinutes: -60 });
    await expect('ON 3-Jun-2020', [4], { timezoneOffsetMinutes: -420 });
  });
});

describe('searchMessages: Date: header days', () => {
  // 1: "1 Jun 2020 00:30 +0200" (31 May in UTC); 2: unreadable, 3: none -> INTERNALDATE 2 Jun; 4: "3 Jun 23:59:59 -0700"
  it('take the day written in the header, in its own zone', async () => {
    await expect('SENTON 1-Jun-2020', [1]);
    await expect('SENTON 31-May-2020', []);
    await expect('SENTON 3-Jun-2020', [4]);
    await expect('SENTBEFORE 2-Jun-2020', [1]);
    await expect('SENTSINCE 3-Jun-2020', [4]);
  });
  it('fall back to INTERNALDATE without a readable Date:', async () => {
    await expect('SENTON 2-Jun-2020', [2, 3]);
    await expect('SENTSINCE 2-Jun-2020', [2, 3, 4]);
  });
});

describe('searchMessages: headers', () => {
  it('address and subject keys on decoded values, case-insensitively', async () => {
    await expect('FROM alice@example.com', [1]);
    await expect('FROM "andré dÜrr"', [2]);
    await expect('TO dan', [4]);
    await expect('TO alice', [2, 3, 4]);
    await expect('CC carol', [1]);
    await expect('BCC hidden', [2]);
    await expect('SUBJECT "résumé du CAFÉ"', [2]);
    await expect('SUBJECT ПРИВЕТ', [3]);
    await expect('SUBJECT 会議', [4]);
    await expect('SUBJECT καλημέρα', []); // only in the attached message
  });
  it('unfolds folded fields', async () => {
    await expect('SUBJECT "report for the board"', [1]);
  });
  it('HEADER name value and HEADER name ""', async () => {
    await expect('HEADER X-Mailer "TÉST mailer"', [3]);
    await expect('HEADER x-priority ""', [1]);
    await expect('HEADER Subject ""', [1, 2, 3, 4]);
    await expect('HEADER Bcc ""', [2]);
    await expect('HEADER X-Nope ""', []);
    await expect('HEADER Message-ID plain-1', [1]);
  });
});

describe('searchMessages: BODY and TEXT', () => {
  it('decodes 8bit, quoted-printable and base64 in their charsets', async () => {
    await expect('BODY größenordnung', [1]);
    await expect('BODY "crème brûlée"', [2]);
    await expect('BODY supercalifragilistic', [2]);
    await expect('BODY "grüße aus köln"', [3]);
    await expect('BODY façade', [3]);
    await expect('BODY ЗДРАВСТВУЙТЕ', [3]);
  });
  it('multipart: text parts (also text attachments), HTML without markup, nested messages', async () => {
    await expect('BODY "café and a softbreak"', [4]);
    await expect('BODY boldtext', [4]);
    await expect('BODY "& more stuff ☺ été"', [4]);
    await expect('BODY <b>', []);
    await expect('BODY color:red', []);
    await expect('BODY textattachmentword', [4]);
    await expect('BODY "“smart quotes” inside €uro"', [4]);
    await expect('BODY καλημέρα', [4]);
  });
  it('leaves out non-text parts, preamble, epilogue and the top-level header', async () => {
    await expect('BODY binarysecretword', []);
    await expect('BODY preamblemarker', []);
    await expect('BODY epiloguemarker', []);
    await expect('BODY alice', [1]);
    await expect('BODY Subject', [4]);
  });
  it('TEXT looks at the header and the body', async () => {
    await expect('TEXT alice@example.com', [1, 2, 3, 4]);
    await expect('TEXT größenordnung', [1]);
    await expect('TEXT "résumé"', [2]);
    await expect('TEXT mallory', [4]);
  });
});

describe('searchMessages: combinations and laziness', () => {
  it('OR / NOT / lists nest', async () => {
    await expect('OR SEEN FLAGGED', [1, 2, 4]);
    await expect('NOT OR SEEN FLAGGED', [3]);
    await expect('OR (BODY crème) (SUBJECT привет)', [2, 3]);
    await expect('NOT (FROM alice BODY numbers)', [2, 3, 4]);
    await expect('(OR UNSEEN KEYWORD $Forwarded) NOT DELETED', [1, 3]);
    await expect('OR OR 1 UID 30 NOT OR RECENT DRAFT', [1, 3]);
    await expect('NOT NOT (SINCE 2-Jun-2020 OR BODY café TEXT привет)', [2, 3, 4]);
  });
  it('does not load content when metadata decides', async () => {
    assert.deepEqual(await run('NOT DELETED ALL'), { seqs: [1, 2, 3], loaded: [] });
    assert.deepEqual(await run('BODY café SEEN'), { seqs: [2], loaded: [1, 2] });
    assert.deepEqual(await run('OR SEEN BODY café'), { seqs: [1, 2, 4], loaded: [3, 4] });
    assert.deepEqual(await run('NOT (UNSEEN SUBJECT x)'), { seqs: [1, 2, 3, 4], loaded: [3, 4] });
  });
  it('loads each message at most once', async () => {
    const r = await run('OR TEXT zzz (SUBJECT a BODY b SENTON 1-Jun-2020 HEADER x y)');
    assert.deepEqual(r.loaded, [1, 2, 3, 4]);
  });
  it('an empty mailbox matches nothing', async () => {
    assert.deepEqual((await run('ALL', { messageCount: 0, maxUid: 0 }, [])).seqs, []);
    assert.deepEqual((await run('UID 1:*', { messageCount: 0, maxUid: 0 }, [])).seqs, []);
  });
});
