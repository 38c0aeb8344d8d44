// RFC 5322 messages for the content scanners' tests (CRLF line ends, as the spool stores them): a clean one, one
// with the EICAR test file as a base64 attachment behind an optional filler text part, one holding GTUBE.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EICAR } from './clamd.ts';
import { GTUBE } from './spamd.ts';

const crlf = (lines: string[]) => `${lines.join('\r\n')}\r\n`;

const head = (subject: string, extra: string[] = []) => [
  'Return-Path: <alice@sender.test>',
  'Received: from mail.sender.test by mx.example.test with ESMTPS; Wed, 2 Dec 2026 12:00:00 +0000',
  'From: Alice <alice@sender.test>',
  'To: Bob <bob@example.test>',
  `Subject: ${subject}`,
  'Date: Wed, 2 Dec 2026 12:00:00 +0000',
  'Message-ID: <20261202120000.4711@mail.sender.test>',
  'MIME-Version: 1.0',
  ...extra,
];

export function cleanMessage(): string {
  return crlf([
    ...head('Lunch on Friday', ['Content-Type: text/plain; charset=utf-8']),
    '',
    'Hi Bob,',
    '',
    'shall we have lunch on Friday at noon, at the usual place? I will bring the notes from the meeting.',
    '',
    'Alice',
  ]);
}

/** EICAR attached (base64) after `fillerLines` lines of text; `attachmentAt` is the offset of the base64 body. */
export function eicarMessage(fillerLines = 0): { text: string; attachmentAt: number } {
  const before = crlf([
    ...head('The file you asked for', ['Content-Type: multipart/mixed; boundary="b1"']),
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Here it is.',
    ...Array.from({ length: fillerLines }, (_, i) => `Filler line ${i} of a long covering letter, nothing to see.`),
    '--b1',
    'Content-Type: application/octet-stream; name="eicar.com"',
    'Content-Disposition: attachment; filename="eicar.com"',
    'Content-Transfer-Encoding: base64',
    '',
  ]);
  const after = crlf([Buffer.from(EICAR).toString('base64'), '--b1--']);
  return { text: before + after, attachmentAt: Buffer.byteLength(before) };
}

export function gtubeMessage(): string {
  return crlf([...head('Test', ['Content-Type: text/plain']), '', 'This is the GTUBE test message.', '', GTUBE]);
}

/** Writes `text` to `name` in `dir`; returns the path. */
export function writeMessage(dir: string, name: string, text: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
