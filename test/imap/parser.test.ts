// The command tokenizer (RFC 3501 9): atoms, quoted strings, literals, lists, BODY[section]<partial>, and errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCommand } from '../../src/imap/protocol/parser.ts';
import { literalAtEnd } from '../../src/imap/protocol/reader.ts';
import { parseSequenceSet, resolveSequenceSet, toSequenceSet } from '../../src/imap/protocol/sequenceSet.ts';
import { Adjacent, ImapBad } from '../../src/imap/protocol/types.ts';
import { astring, encode } from '../../src/imap/protocol/writer.ts';

const p = (s: string) => parseCommand(Buffer.from(s, 'latin1'));
const plain = (v: unknown): unknown =>
  Buffer.isBuffer(v)
    ? v.toString('latin1')
    : Array.isArray(v)
      ? v.map(plain)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))
        : v;

test('tag, command name (UID prefix folded), atoms, quoted strings with escapes, literals, nested lists', () => {
  const c = p('a1 uid fetch 1:* (FLAGS "q\\"x\\\\y" {3}\r\nabc (NIL))');
  assert.equal(c.tag, 'a1');
  assert.equal(c.name, 'UID FETCH');
  assert.deepEqual(plain(c.args), [
    { type: 'atom', value: '1:*' },
    {
      type: 'list',
      items: [
        { type: 'atom', value: 'FLAGS' },
        { type: 'string', value: 'q"x\\y', literal: false },
        { type: 'string', value: 'abc', literal: true },
        { type: 'list', items: [{ type: 'atom', value: 'NIL' }] },
      ],
    },
  ]);
});

test('BODY.PEEK[HEADER.FIELDS (From To)]<0.100> is one atom with a section and a partial', () => {
  const c = p('t FETCH 1 (BODY.PEEK[HEADER.FIELDS (From To)]<0.100> BODY[] BODY[1.2.MIME])');
  const items = (c.args[1] as { items: unknown[] }).items;
  assert.deepEqual(plain(items[0]), {
    type: 'atom',
    value: 'BODY.PEEK',
    section: [
      { type: 'atom', value: 'HEADER.FIELDS' },
      {
        type: 'list',
        items: [
          { type: 'atom', value: 'From' },
          { type: 'atom', value: 'To' },
        ],
      },
    ],
    partial: [0, 100],
  });
  assert.deepEqual(plain(items[1]), { type: 'atom', value: 'BODY', section: [] });
  assert.deepEqual(plain(items[2]), { type: 'atom', value: 'BODY', section: [{ type: 'atom', value: '1.2.MIME' }] });
});

test('malformed commands are ImapBad, with the tag when it was readable', () => {
  for (const bad of [
    't FETCH 1 (FLAGS',
    't FETCH 1 FLAGS)',
    't SELECT "unterminated',
    't SELECT "bad\\q"',
    't FETCH 1 BODY[HEADER',
    't FETCH 1 BODY[]<x>',
    't  NOOP',
    't NOOP ',
    't LOGIN a  b',
    't X {5}\r\nab',
    `t X ${'('.repeat(40)}${')'.repeat(40)}`,
    't LOGIN \u00e9 x',
    't SELECT ]',
  ]) {
    assert.throws(
      () => p(bad),
      (e) => e instanceof ImapBad && (e as { tag?: string }).tag === 't',
      bad,
    );
  }
  assert.throws(() => p(''), ImapBad);
  assert.throws(() => p('(bad NOOP'), ImapBad);
});

test('literal markers are recognised only at the end of a line and outside quotes', () => {
  assert.deepEqual(literalAtEnd(Buffer.from('a APPEND INBOX {12}')), { size: 12, sync: true });
  assert.deepEqual(literalAtEnd(Buffer.from('a APPEND INBOX {12+}')), { size: 12, sync: false });
  assert.equal(literalAtEnd(Buffer.from('a LOGIN "x {12}"')), null);
  assert.equal(literalAtEnd(Buffer.from('a LOGIN "x\\" {12}"')), null);
  assert.equal(literalAtEnd(Buffer.from('a X {1a}')), null);
});

test('sequence sets: ranges, *, reversed ranges, errors; compression back to a set', () => {
  const uids = [1, 2, 3, 7, 8, 20];
  assert.deepEqual(resolveSequenceSet(parseSequenceSet('2:3,8:*'), uids), [2, 3, 8, 20]);
  assert.deepEqual(resolveSequenceSet(parseSequenceSet('*:7'), uids), [7, 8, 20]);
  assert.deepEqual(resolveSequenceSet(parseSequenceSet('100:*'), uids), [20]);
  assert.deepEqual(resolveSequenceSet(parseSequenceSet('4:6'), uids), []);
  for (const bad of ['', '0', '1:0', '1,,2', '1:2:3', 'a', '-1', '4294967296', '1:*x'])
    assert.throws(() => parseSequenceSet(bad), ImapBad, bad);
  assert.equal(toSequenceSet([1, 2, 3, 5, 7, 8]), '1:3,5,7:8');
});

test('writer: quoted vs literal, NIL, atoms kept bare only where safe', () => {
  assert.deepEqual(encode(['a "b"', null, 5, 'x\r\ny', 'caf\u00e9']), [
    '(',
    '"a \\"b\\""',
    ' ',
    'NIL',
    ' ',
    '5',
    ' ',
    '{4}\r\n',
    Buffer.from('x\r\ny'),
    ' ',
    '{5}\r\n',
    Buffer.from('caf\u00e9'),
    ')',
  ]);
  // 1*body and 1*address: adjacent lists without a space (RFC 3501 9), other lists separated.
  assert.equal(
    encode([new Adjacent([['a'], ['b']]), 'mixed', ['x'], ['y']]).join(''),
    '(("a")("b") "mixed" ("x") ("y"))',
  );
  assert.deepEqual(astring('INBOX'), ['INBOX']);
  assert.deepEqual(astring('NIL'), ['"NIL"']);
  assert.deepEqual(astring('a b'), ['"a b"']);
});
