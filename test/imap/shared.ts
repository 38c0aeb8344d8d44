// Helpers shared by the IMAP command tests (test/imap/commands) and the client tests: where a user's Maildir++
// folders are on disk, their cur/ files, APPEND over the raw wire, LIST replies as pairs, a multipart message.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RawImap } from '../helpers/imap.ts';
import type { imapServer } from './setup.ts';

export type Server = Awaited<ReturnType<typeof imapServer>>;

/** The Maildir of `email` (INBOX). */
export const userRoot = (s: Server, email: string) => {
  const [local, domain] = email.split('@');
  return join(s.config.storage.mail_dir, domain!, local!);
};

/** The Maildir++ folder of mailbox `box` of `email`. */
export const folder = (s: Server, email: string, box: string) => {
  const root = userRoot(s, email);
  return box === 'INBOX' ? root : join(root, `.${box.split('/').join('.')}`);
};

/** The sorted file names in `dir`/cur (none if there is no cur/). */
export const curFiles = (dir: string) => (existsSync(join(dir, 'cur')) ? readdirSync(join(dir, 'cur')).sort() : []);
export const cur = curFiles;

/** APPENDs a message (synchronizing literal) and returns its UID. */
export async function append(c: RawImap, box: string, body: string): Promise<number> {
  const tag = c.nextTag();
  c.write(`${tag} APPEND "${box}" {${Buffer.byteLength(body)}}\r\n`);
  assert.match(await c.readLine(), /^\+ /);
  c.write(`${body}\r\n`);
  const r = await c.until(tag);
  const m = /OK \[APPENDUID \d+ (\d+)\]/.exec(r.tagged);
  assert.ok(m, r.tagged);
  return Number(m[1]);
}

/** `* LIST (attrs) "/" name` lines of a reply as [name, attrs] pairs. */
export function listed(lines: string[], verb = 'LIST'): [string, string][] {
  return lines
    .filter((l) => l.startsWith(`* ${verb} `))
    .map((l) => {
      const m = new RegExp(`^\\* ${verb} \\(([^)]*)\\) "/" "?([^"]*)"?$`).exec(l);
      assert.ok(m, l);
      return [m[2]!, m[1]!];
    });
}

/** A multipart/mixed message (alternative text and HTML, a base64 PDF attachment), CRLF line ends. */
export const MIXED = [
  'From: "Alice Example" <alice@remote.example>',
  'To: bob@example.com, "Carol" <carol@example.com>',
  'Subject: =?UTF-8?Q?R=C3=A9sum=C3=A9?= attached',
  'Date: Mon, 23 Nov 2026 10:00:00 +0100',
  'Message-ID: <mixed-1@remote.example>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="outer"',
  '',
  '--outer',
  'Content-Type: multipart/alternative; boundary="inner"',
  '',
  '--inner',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Plain body.',
  '--inner',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<p>HTML body.</p>',
  '--inner--',
  '--outer',
  'Content-Type: application/pdf; name="cv.pdf"',
  'Content-Disposition: attachment; filename="cv.pdf"',
  'Content-Transfer-Encoding: base64',
  '',
  'JVBERi0xLjQK',
  '--outer--',
  '',
].join('\r\n');
