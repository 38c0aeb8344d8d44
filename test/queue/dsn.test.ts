// src/queue/dsn.ts: DSNs parsed back with a real, independent MIME parser (Python's email package): the
// multipart/report structure, the headers (From, To, Subject per action, Auto-Submitted), the delivery-status
// fields per message and per recipient, and the returned original (message/rfc822 for RET=FULL failures,
// text/rfc822-headers for RET=HDRS, delays, successes and originals over the size limit); sanitizing of hostile
// diagnostics and long values.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { buildDsn, type DsnInput } from '../../src/queue/dsn.ts';
import { needTool } from '../helpers/tools.ts';

const PARSE = `
import email, json, sys
from email import policy
msg = email.message_from_bytes(sys.stdin.buffer.read(), policy=policy.default)
def defects(m):
    out = [type(d).__name__ for d in m.defects]
    if m.is_multipart():
        for p in m.get_payload():
            out += defects(p)
    return out
parts = []
for p in msg.get_payload():
    ct = p.get_content_type()
    d = {'type': ct, 'cte': p.get('Content-Transfer-Encoding'), 'description': p.get('Content-Description')}
    if ct == 'text/plain':
        d['charset'] = p.get_content_charset()
        d['text'] = p.get_content()
    elif ct == 'message/delivery-status':
        d['blocks'] = [{k: str(v) for k, v in b.items()} for b in p.get_payload()]
    elif ct == 'message/rfc822':
        inner = p.get_payload()[0]
        d['headers'] = {k: str(v) for k, v in inner.items()}
        d['body'] = inner.get_payload(decode=True).decode('utf-8')
    else:
        d['text'] = p.get_payload()
    parts.append(d)
print(json.dumps({
    'type': msg.get_content_type(),
    'reportType': msg.get_param('report-type'),
    'headers': {k: str(v) for k, v in msg.items()},
    'parts': parts,
    'defects': defects(msg),
}))
`;

interface Parsed {
  type: string;
  reportType: string;
  headers: Record<string, string>;
  parts: {
    type: string;
    cte: string;
    description: string;
    charset?: string;
    text?: string;
    blocks?: Record<string, string>[];
    headers?: Record<string, string>;
    body?: string;
  }[];
  defects: string[];
}

function parse(t: import('node:test').TestContext, dsn: Buffer): Parsed | null {
  const py = needTool(t, 'python3', 'python3');
  if (!py) return null;
  return JSON.parse(execFileSync(py, ['-c', PARSE], { input: dsn, encoding: 'utf8' }));
}

const ORIGINAL = Buffer.from(
  [
    'From: Alice <alice@example.com>',
    'To: bob@remote.example',
    'Subject: Hello there',
    'Message-ID: <orig-1@example.com>',
    '',
    'Body line one.',
    'Body line two.',
    '',
  ].join('\r\n'),
);

const base = (over: Partial<DsnInput> = {}): DsnInput => ({
  reportingMta: 'mx.example.com',
  to: 'alice@example.com',
  envid: 'QQ314159',
  arrivalDate: new Date(Date.UTC(2026, 11, 1, 10, 0, 0)),
  action: 'failed',
  recipients: [
    {
      finalRecipient: 'bob@remote.example',
      originalRecipient: 'rfc822;bob+2Bx@remote.example',
      status: '5.1.1',
      remoteMta: 'mx1.remote.example',
      diagnostic: '550 5.1.1 <bob@remote.example>: Recipient address rejected: User unknown',
      lastAttemptDate: new Date(Date.UTC(2026, 11, 1, 10, 5, 0)),
    },
    {
      finalRecipient: 'carol@remote.example',
      status: '5.2.2',
      remoteMta: 'mx1.remote.example',
      diagnostic: '552 5.2.2 mailbox full',
    },
  ],
  original: ORIGINAL,
  messageId: 'dsn-1@mx.example.com',
  date: new Date(Date.UTC(2026, 11, 2, 9, 30, 0)),
  ...over,
});

test('a failure with RET=FULL: multipart/report with explanation, delivery-status and the message/rfc822 original', (t) => {
  const dsn = buildDsn(base());
  assert.ok(!/[^\r]\n/.test(dsn.toString('latin1')), 'CRLF line ends only');
  for (const line of dsn.toString('latin1').split('\r\n')) assert.ok(line.length <= 998);
  const p = parse(t, dsn);
  if (!p) return;
  assert.deepEqual(p.defects, []);
  assert.equal(p.type, 'multipart/report');
  assert.equal(p.reportType, 'delivery-status');
  assert.equal(p.headers.From, 'Mail Delivery System <MAILER-DAEMON@mx.example.com>');
  assert.equal(p.headers.To, 'alice@example.com');
  assert.equal(p.headers.Subject, 'Undelivered Mail Returned to Sender');
  assert.equal(p.headers.Date, 'Wed, 02 Dec 2026 09:30:00 +0000');
  assert.equal(p.headers['Message-ID'], '<dsn-1@mx.example.com>');
  assert.equal(p.headers['Auto-Submitted'], 'auto-replied');
  assert.equal(p.headers['MIME-Version'], '1.0');
  assert.deepEqual(
    p.parts.map((x) => x.type),
    ['text/plain', 'message/delivery-status', 'message/rfc822'],
  );
  const [text, status, original] = p.parts as [Parsed['parts'][0], Parsed['parts'][0], Parsed['parts'][0]];
  assert.equal(text.charset, 'utf-8');
  assert.match(text.text!, /could not be delivered/);
  assert.match(text.text!, /<bob@remote\.example>\s+host mx1\.remote\.example said: 550 5\.1\.1/);
  assert.match(text.text!, /<carol@remote\.example>/);

  assert.deepEqual(status.blocks, [
    {
      'Reporting-MTA': 'dns; mx.example.com',
      'Original-Envelope-Id': 'QQ314159',
      'Arrival-Date': 'Tue, 1 Dec 2026 10:00:00 +0000',
    },
    {
      'Original-Recipient': 'rfc822; bob+x@remote.example',
      'Final-Recipient': 'rfc822; bob@remote.example',
      Action: 'failed',
      Status: '5.1.1',
      'Remote-MTA': 'dns; mx1.remote.example',
      'Diagnostic-Code': 'smtp; 550 5.1.1 <bob@remote.example>: Recipient address rejected: User unknown',
      'Last-Attempt-Date': 'Tue, 1 Dec 2026 10:05:00 +0000',
    },
    {
      'Final-Recipient': 'rfc822; carol@remote.example',
      Action: 'failed',
      Status: '5.2.2',
      'Remote-MTA': 'dns; mx1.remote.example',
      'Diagnostic-Code': 'smtp; 552 5.2.2 mailbox full',
    },
  ]);
  assert.equal(original.headers!.Subject, 'Hello there');
  assert.equal(original.headers!['Message-ID'], '<orig-1@example.com>');
  assert.match(original.body!, /^Body line one\.\r?\nBody line two\.\r?\n/);
  assert.ok(dsn.includes(ORIGINAL), 'the original, byte for byte');
});

test('RET=HDRS, and an original over maxOriginalBytes: only its header, as text/rfc822-headers', (t) => {
  for (const over of [{ ret: 'HDRS' as const }, { maxOriginalBytes: 100 }]) {
    const dsn = buildDsn(base(over));
    const p = parse(t, dsn);
    if (!p) return;
    assert.deepEqual(p.defects, []);
    const third = p.parts[2]!;
    assert.equal(third.type, 'text/rfc822-headers', JSON.stringify(over));
    assert.match(third.text!, /^From: Alice <alice@example\.com>\r?\n/);
    assert.match(third.text!, /Subject: Hello there/);
    assert.doesNotMatch(third.text!, /Body line/);
    assert.ok(!dsn.includes('Body line one'));
  }
  const within = parse(t, buildDsn(base({ maxOriginalBytes: ORIGINAL.length })));
  assert.equal(within?.parts[2]?.type, 'message/rfc822', 'exactly at the limit: returned in full');
});

test('a delay notice: its subject, Action delayed, Will-Retry-Until, headers only (even with RET=FULL)', (t) => {
  const until = new Date(Date.UTC(2026, 11, 6, 10, 0, 0));
  const dsn = buildDsn(
    base({
      action: 'delayed',
      ret: 'FULL',
      envid: null,
      recipients: [
        {
          finalRecipient: 'bob@remote.example',
          status: '4.4.1',
          remoteMta: 'mx1.remote.example',
          diagnostic: '421 4.4.1 try later',
          lastAttemptDate: new Date(Date.UTC(2026, 11, 2, 9, 0, 0)),
          willRetryUntil: until,
        },
      ],
    }),
  );
  const p = parse(t, dsn);
  if (!p) return;
  assert.deepEqual(p.defects, []);
  assert.equal(p.headers.Subject, 'Delayed Mail (still being retried)');
  assert.equal(p.parts[1]!.blocks![0]!['Original-Envelope-Id'], undefined);
  assert.deepEqual(p.parts[1]!.blocks![1], {
    'Final-Recipient': 'rfc822; bob@remote.example',
    Action: 'delayed',
    Status: '4.4.1',
    'Remote-MTA': 'dns; mx1.remote.example',
    'Diagnostic-Code': 'smtp; 421 4.4.1 try later',
    'Last-Attempt-Date': 'Wed, 2 Dec 2026 09:00:00 +0000',
    'Will-Retry-Until': 'Sun, 6 Dec 2026 10:00:00 +0000',
  });
  assert.match(p.parts[0]!.text!, /retried until Sun, 6 Dec 2026 10:00:00 \+0000/);
  assert.equal(p.parts[2]!.type, 'text/rfc822-headers');
});

test('success reports (delivered, relayed): their subject and action, headers only', (t) => {
  for (const action of ['delivered', 'relayed'] as const) {
    const p = parse(
      t,
      buildDsn(
        base({
          action,
          recipients: [{ finalRecipient: 'bob@remote.example', status: '2.0.0', remoteMta: 'mx1.remote.example' }],
        }),
      ),
    );
    if (!p) return;
    assert.deepEqual(p.defects, []);
    assert.equal(p.headers.Subject, 'Successful Mail Delivery Report');
    assert.equal(p.parts[1]!.blocks![1]!.Action, action);
    assert.equal(p.parts[1]!.blocks![1]!.Status, '2.0.0');
    assert.equal(p.parts[2]!.type, 'text/rfc822-headers');
  }
});

test('hostile and long values: control characters sanitized, long diagnostics folded and bounded, UTF-8 addresses kept', (t) => {
  const evil = `550 bad\r\nBcc: victim@example.org\r\n\r\n--x\u0000\u0007 end ${'word '.repeat(400)}`;
  const dsn = buildDsn(
    base({
      to: 'jörg@bücher.example',
      reportingMta: 'mx.example.com\r\nX-Injected: yes',
      recipients: [
        { finalRecipient: 'δοκιμή@παράδειγμα.example', status: 'bogus', remoteMta: 'mx\n1', diagnostic: evil },
      ],
    }),
  );
  for (const line of dsn.toString('utf8').split('\r\n')) assert.ok(Buffer.byteLength(line) <= 998);
  assert.ok(!dsn.includes('\r\nBcc:'), 'no header injected');
  assert.ok(!dsn.includes('\r\nX-Injected'), 'no header injected');
  assert.ok(!dsn.includes('\u0000'));
  const p = parse(t, dsn);
  if (!p) return;
  assert.deepEqual(p.defects, []);
  assert.equal(p.headers.To, 'jörg@bücher.example');
  assert.equal(p.headers.Bcc, undefined);
  const block = p.parts[1]!.blocks![1]!;
  assert.equal(block['Final-Recipient'], 'rfc822; δοκιμή@παράδειγμα.example');
  assert.equal(block.Status, '5.0.0', 'an invalid status: the generic one');
  assert.equal(block['Remote-MTA'], 'dns; mx 1');
  const diag = block['Diagnostic-Code']!.replace(/\s+/g, ' ');
  assert.ok(diag.startsWith('smtp; 550 bad Bcc: victim@example.org --x end word word'), diag);
  assert.ok(diag.length <= 'smtp; '.length + 900, `bounded: ${diag.length}`);
  assert.equal(p.parts.length, 3);
});

test('a DSN needs someone to go to and something to report', () => {
  assert.throws(() => buildDsn(base({ to: '' })), /recipient/);
  assert.throws(() => buildDsn(base({ recipients: [] })), /recipient/);
});
