/**
 * Differential test: every fixture in test/fixtures/mime is appended to a private Dovecot 2.3 and its
 * ENVELOPE, BODY, BODYSTRUCTURE and many BODY[section] answers are compared with ours, both normalised
 * (imapWire.ts) so that only atom letter case and quoted-vs-literal may differ. Dovecot serves bare-LF
 * messages with CRLF line ends (and CRLF sizes); ours are compared on the CRLF form of such a fixture.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fetchSection, parsedMessage, parseSectionSpec } from '../../../src/imap/mime/index.ts';
import type { Token } from '../../../src/imap/protocol/types.ts';
import { unavailable } from '../../helpers/tools.ts';
import { dovecotMissing, dovecotWith } from './dovecot.ts';
import { command, fetchItems, normalise, show, type Wire } from './imapWire.ts';

const DIR = new URL('../../fixtures/mime/', import.meta.url);
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.eml'))
  .sort();
const toCrlf = (b: Buffer) => Buffer.from(b.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');

const SECTIONS = [
  '',
  'HEADER',
  'TEXT',
  'HEADER.FIELDS (From Subject)',
  'HEADER.FIELDS.NOT (Received Subject Content-Type)',
  '1',
  '1.MIME',
  '1.HEADER',
  '1.TEXT',
  '1.1',
  '1.1.MIME',
  '1.1.1',
  '2',
  '2.MIME',
  '2.HEADER',
  '2.TEXT',
  '2.HEADER.FIELDS (Subject)',
  '2.1',
  '2.1.MIME',
  '2.2',
  '2.2.1',
  '3',
  '3.1',
  '3.MIME',
  '4',
  '6.HEADER',
  '9',
];

/** A section string as the command parser would hand it to us. */
function sectionTokens(s: string): Token[] {
  if (!s) return [];
  const m = /^(\S+)(?: \((.*)\))?$/.exec(s)!;
  const out: Token[] = [{ type: 'atom', value: m[1]! }];
  if (m[2] !== undefined) out.push({ type: 'list', items: m[2].split(' ').map((v) => ({ type: 'atom', value: v })) });
  return out;
}

test('ENVELOPE, BODY, BODYSTRUCTURE and BODY[section] match Dovecot 2.3 on every fixture', async (t) => {
  const missing = dovecotMissing();
  if (missing) return unavailable(t, missing);
  const raws = files.map((f) => readFileSync(new URL(f, DIR)));
  const imap = await dovecotWith(t, raws);
  const items = fetchItems(await command(imap, 'FETCH 1:* (ENVELOPE BODY BODYSTRUCTURE)'));
  const sectionItems = SECTIONS.map((s) => `BODY.PEEK[${s}]`).join(' ');
  const sections = fetchItems(await command(imap, `FETCH 1:* (${sectionItems} BODY.PEEK[]<5.20>)`));
  const mismatches: string[] = [];
  const compare = (file: string, what: string, ours: Wire, theirs: Wire | undefined) => {
    try {
      assert.deepStrictEqual(ours, theirs);
    } catch {
      mismatches.push(
        `${file} ${what}\n  ours:    ${show(ours)}\n  dovecot: ${theirs === undefined ? '-' : show(theirs)}`,
      );
    }
  };
  for (const [i, file] of files.entries()) {
    const msg = parsedMessage(toCrlf(raws[i]!));
    const theirs = items.get(i + 1)!;
    compare(file, 'ENVELOPE', normalise(msg.envelope()), theirs.get('ENVELOPE'));
    compare(file, 'BODY', normalise(msg.body()), theirs.get('BODY'));
    compare(file, 'BODYSTRUCTURE', normalise(msg.bodyStructure()), theirs.get('BODYSTRUCTURE'));
    const got = sections.get(i + 1)!;
    for (const s of SECTIONS) {
      const ours = fetchSection(msg.root, parseSectionSpec(sectionTokens(s)));
      compare(file, `BODY[${s}]`, ours, got.get(`BODY[${s.toUpperCase()}]`));
    }
    compare(file, 'BODY[]<5.20>', msg.section({ part: [], text: '' }, [5, 20]), got.get('BODY[]<5>'));
  }
  assert.equal(mismatches.length, 0, `${mismatches.length} differences from Dovecot:\n${mismatches.join('\n')}`);
});
