// The X-Spam-* header lines, in SpamAssassin's own format.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spamHeaders } from '../../src/policy/spamHeaders.ts';

test('spam: X-Spam-Flag, X-Spam-Score and X-Spam-Status with the rules, folded after commas at 78 columns', () => {
  const symbols =
    'GTUBE,MISSING_DATE,MISSING_MID,NO_RECEIVED,NO_RELAYS,TVD_SPACE_RATIO,A_VERY_LONG_RULE_NAME_INDEED'.split(',');
  const h = spamHeaders({ score: 1003.25, threshold: 5, symbols });
  assert.deepEqual(h, [
    'X-Spam-Flag: YES',
    'X-Spam-Score: 1003.3',
    'X-Spam-Status: Yes, score=1003.3 required=5.0 tests=GTUBE,MISSING_DATE,\r\n' +
      '\tMISSING_MID,NO_RECEIVED,NO_RELAYS,TVD_SPACE_RATIO,\r\n' +
      '\tA_VERY_LONG_RULE_NAME_INDEED',
  ]);
  for (const line of h.join('\r\n').split('\r\n')) assert.ok(line.length <= 78, line);
  assert.ok(!h.some((l) => l.endsWith('\r\n')));
});

test('ham: no flag, tests=none without rules, "-0.0" printed as 0.0', () => {
  assert.deepEqual(spamHeaders({ score: -0.01, threshold: 5, symbols: [] }), [
    'X-Spam-Score: 0.0',
    'X-Spam-Status: No, score=0.0 required=5.0 tests=none',
  ]);
  assert.deepEqual(spamHeaders({ score: -1.2, threshold: 5, symbols: ['BAYES_00'] }), [
    'X-Spam-Score: -1.2',
    'X-Spam-Status: No, score=-1.2 required=5.0 tests=BAYES_00',
  ]);
});

test("a domain's own threshold decides Yes/No and is the required= shown; reaching it counts", () => {
  const facts = { score: 4, threshold: 5, symbols: ['X'] };
  assert.equal(spamHeaders(facts)[1], 'X-Spam-Status: No, score=4.0 required=5.0 tests=X');
  assert.deepEqual(spamHeaders(facts, 4), [
    'X-Spam-Flag: YES',
    'X-Spam-Score: 4.0',
    'X-Spam-Status: Yes, score=4.0 required=4.0 tests=X',
  ]);
});
