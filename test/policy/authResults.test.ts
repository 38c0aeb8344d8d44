// Authentication-Results (src/policy/authResults.ts): the line we add, and RFC 8601 section 5: incoming fields
// that claim our authserv-id are forged and removed (folded ones with all their lines), those of other hosts and
// ARC-Authentication-Results are kept, and nothing else in the header section changes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  authservIdOf,
  formatAuthResults,
  isForgedAuthResults,
  stripForgedAuthResults,
} from '../../src/policy/authResults.ts';

const HOST = 'mx.mailyard.test';

test('the authserv-id of a value: token or quoted string, after comments and folding', () => {
  assert.equal(authservIdOf(' mx.mailyard.test; spf=pass smtp.mailfrom=a@b.test'), HOST);
  assert.equal(authservIdOf(' mx.mailyard.test 1; dkim=pass'), HOST, 'with an authres-version');
  assert.equal(authservIdOf('\r\n\t(a comment (nested)) mx.mailyard.test; none'), HOST);
  assert.equal(authservIdOf(' "mx.mailyard.test"; none'), HOST);
  assert.equal(authservIdOf(' mx.mailyard.test'), HOST, 'no resinfo at all');
  assert.equal(authservIdOf('  ;'), null);
});

test('forged: our hostname, whatever the case or a final dot; not another host or a longer name', () => {
  assert.equal(isForgedAuthResults(' MX.Mailyard.TEST; spf=pass', HOST), true);
  assert.equal(isForgedAuthResults(' mx.mailyard.test.; dkim=pass', HOST), true);
  assert.equal(isForgedAuthResults(' (ours?) "mx.mailyard.test"; dmarc=pass', HOST), true);
  assert.equal(isForgedAuthResults(' relay.example.test; spf=pass', HOST), false);
  assert.equal(isForgedAuthResults(' mx.mailyard.test.example; spf=pass', HOST), false);
  assert.equal(isForgedAuthResults(' spf=pass smtp.mailfrom=mx.mailyard.test', HOST), false);
});

test('removal: forged fields (folded too) go, other hosts and ARC-Authentication-Results stay, bytes otherwise equal', () => {
  const header = [
    'Received: from a by b; Mon, 30 Nov 2026 10:00:00 +0000',
    'Authentication-Results: mx.mailyard.test;',
    ' dkim=pass header.d=bank.test;',
    '\tdmarc=pass header.from=bank.test',
    'ARC-Authentication-Results: i=1; mx.mailyard.test; spf=pass',
    'Authentication-Results: relay.example.test; spf=pass smtp.mailfrom=x@list.test',
    'authentication-results:MX.MAILYARD.TEST; spf=pass',
    'Subject: caf\xe9',
    '',
    'Authentication-Results: mx.mailyard.test; in the body',
    '',
  ].join('\r\n');
  const expected = [
    'Received: from a by b; Mon, 30 Nov 2026 10:00:00 +0000',
    'ARC-Authentication-Results: i=1; mx.mailyard.test; spf=pass',
    'Authentication-Results: relay.example.test; spf=pass smtp.mailfrom=x@list.test',
    'Subject: caf\xe9',
    '',
    'Authentication-Results: mx.mailyard.test; in the body',
    '',
  ].join('\r\n');
  assert.equal(stripForgedAuthResults(header, HOST), expected);
  const bytes = stripForgedAuthResults(Buffer.from(header, 'latin1'), HOST);
  assert.ok(Buffer.isBuffer(bytes));
  assert.equal(bytes.toString('latin1'), expected, 'a Buffer keeps its non-ASCII bytes');
  const clean = 'From: a@b.test\nSubject: x\n';
  assert.equal(stripForgedAuthResults(clean, HOST), clean, 'bare LF, nothing to remove');
  assert.equal(
    stripForgedAuthResults('X: 1\nAuthentication-Results: mx.mailyard.test; none\n continued\nY: 2\n', HOST),
    'X: 1\nY: 2\n',
  );
});

test('our line: the hostname, then one resinfo per method, folded; "none" when nothing was evaluated', () => {
  const line = formatAuthResults(HOST, ['spf=pass smtp.mailfrom=a@b.test', 'dmarc=pass header.from=b.test']);
  assert.equal(
    line,
    'Authentication-Results: mx.mailyard.test;\r\n spf=pass smtp.mailfrom=a@b.test;\r\n dmarc=pass header.from=b.test',
  );
  assert.equal(formatAuthResults(HOST, []), 'Authentication-Results: mx.mailyard.test;\r\n none');
  assert.equal(isForgedAuthResults(line.slice(line.indexOf(':') + 1), HOST), true, 'what we add is what we remove');
  const long = formatAuthResults(HOST, [`dkim=pass (${'comment '.repeat(40)}) header.d=b.test`]);
  assert.ok(long.split('\r\n').every((l) => l.length <= 161));
});
