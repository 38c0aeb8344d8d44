/**
 * Scaling sanity (no timing assertion): parsing a ~20 MB message with a 15 MB base64 attachment and a 4 MB
 * text part is a few linear scans. The test prints the time per MB at two sizes; a quadratic parser would
 * show a growing ratio. It asserts only the structure.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsedMessage } from '../../../src/imap/mime/index.ts';

function bigMessage(mb: number): Buffer {
  const line = `${'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx'.slice(0, 76)}\r\n`;
  const b64 = line.repeat(Math.floor((mb * 0.75 * 1024 * 1024) / line.length));
  const text = 'Some text line in a long body, repeated many times.\r\n'.repeat(
    Math.floor((mb * 0.2 * 1024 * 1024) / 54),
  );
  return Buffer.from(
    'From: a@example.com\r\nSubject: big\r\nContent-Type: multipart/mixed; boundary="zz"\r\n\r\n' +
      `--zz\r\nContent-Type: text/plain\r\n\r\n${text}\r\n` +
      `--zz\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--zz--\r\n`,
  );
}

test('parsing stays linear on a 20 MB message with a 15 MB base64 attachment', () => {
  const perMb: number[] = [];
  for (const mb of [5, 20]) {
    const raw = bigMessage(mb);
    const t0 = performance.now();
    const m = parsedMessage(raw);
    const structure = m.bodyStructure();
    const ms = performance.now() - t0;
    perMb.push(ms / (raw.length / 1048576));
    assert.equal(m.root.children.length, 2);
    assert.ok(Array.isArray(structure));
    console.log(`${(raw.length / 1048576).toFixed(1)} MB parsed in ${ms.toFixed(1)} ms`);
  }
  console.log(`ms per MB: ${perMb.map((x) => x.toFixed(2)).join(' -> ')}`);
});
