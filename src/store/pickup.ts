/**
 * Mail that other software put into a Mailyard folder (an MDA writing into new/, Dovecot delivering or saving,
 * files copied in during a migration): found so that the caller can index it. Rules: a file whose base name
 * (before ":2,") the index knows, or that Mailyard is placing right now (held.ts), is left alone; a file in new/
 * is first renamed into cur/ with its info part (":2," when it has none), as Dovecot does, so it is found once;
 * its flags come from the info part (system letters D F R S T; keyword letters through the folder's
 * dovecot-keywords); its INTERNALDATE is the file's mtime; its size is that of its CRLF form (Dovecot's W=, else
 * the file's size plus its bare LFs: crlf.ts); dotfiles and names with an info part other than ":2," are
 * skipped; files come back oldest first, then by name. Listing (names and a stat) and reading (contents) are two
 * steps, so that the caller can read and index a big folder in chunks.
 * A folder whose cur/ and new/ have not changed since its last pickup in this process is not read again.
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { bareLineFeeds } from './crlf.ts';
import { HEADER_LIMIT, type IndexedHeaders, parseIndexHeaders } from './headers.ts';
import { isHeld } from './held.ts';
import { keywordsOfLetters } from './keywords.ts';
import { type FileFlags, systemFlagsOf } from './maildir.ts';

export interface FoundMessage {
  maildirName: string;
  path: string;
  size: number;
  internalDate: number;
  flags: FileFlags;
  headers: IndexedHeaders;
}

/** Per folder: the mtimes of cur/ and new/ when it was last read completely. */
const seen = new Map<string, string>();

const mtimes = (dir: string): string | null => {
  try {
    return `${statSync(join(dir, 'cur')).mtimeMs}/${statSync(join(dir, 'new')).mtimeMs}`;
  } catch {
    return null;
  }
};

/** The header section (up to HEADER_LIMIT bytes) of a file, read without reading the rest. */
function headersOf(path: string): IndexedHeaders {
  const buf = Buffer.alloc(HEADER_LIMIT);
  const fd = openSync(path, 'r');
  try {
    return parseIndexHeaders(buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)));
  } finally {
    closeSync(fd);
  }
}

/** A candidate file in cur/: its names and mtime, before its contents are read. */
export interface Candidate {
  file: string;
  base: string;
  info: string;
  mtimeMs: number;
}

/**
 * The files of the Maildir folder `dir` that are not `skip`ped (known to the index, or held), moving those in new/
 * into cur/ first; oldest first, then by name. Only names and a stat each: reading them is `readCandidates`'s.
 * Once the caller has indexed them it calls `done()`: until cur/ or new/ changes, the folder is not read again.
 */
export function listUnindexed(
  dir: string,
  known: (maildirName: string) => boolean,
): { files: Candidate[]; done(): void } {
  const none = { files: [], done() {} };
  const cur = join(dir, 'cur');
  const skip = (base: string) => known(base) || isHeld(base);
  let fresh: string[];
  try {
    fresh = readdirSync(join(dir, 'new'));
  } catch {
    return none; // not created yet: nothing delivered
  }
  for (const f of fresh) {
    if (f.startsWith('.') || skip(f.split(':')[0]!)) continue;
    try {
      renameSync(join(dir, 'new', f), join(cur, f.includes(':') ? f : `${f}:2,`));
    } catch {
      // gone meanwhile (another reader of the Maildir took it)
    }
  }
  const snapshot = mtimes(dir);
  if (snapshot === null || seen.get(dir) === snapshot) return none;
  const files: Candidate[] = [];
  for (const f of readdirSync(cur)) {
    if (f.startsWith('.')) continue;
    const colon = f.indexOf(':');
    if (colon >= 0 && !f.startsWith(':2,', colon)) continue;
    const base = colon >= 0 ? f.slice(0, colon) : f;
    if (skip(base)) continue;
    try {
      const st = statSync(join(cur, f));
      if (st.isFile()) files.push({ file: f, base, info: colon >= 0 ? f.slice(colon + 3) : '', mtimeMs: st.mtimeMs });
    } catch {
      // gone meanwhile
    }
  }
  files.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.base < b.base ? -1 : 1));
  return { files, done: () => seen.set(dir, snapshot) };
}

/** Reads candidates of `dir` (headers, size, flags); a file gone meanwhile is left out. */
export function readCandidates(dir: string, files: readonly Candidate[]): FoundMessage[] {
  const found: FoundMessage[] = [];
  for (const c of files) {
    const path = join(dir, 'cur', c.file);
    // The size IMAP reports is that of the CRLF form (mailboxFiles.ts serves bare LFs as CRLF): Dovecot's W=,
    // else the file's size plus its bare LFs (which takes reading the whole file once).
    const virtual = /,W=(\d+)(?:,|$)/.exec(c.base);
    let headers: IndexedHeaders;
    let size: number;
    try {
      if (virtual) {
        headers = headersOf(path);
        size = Number(virtual[1]);
      } else {
        const bytes = readFileSync(path);
        headers = parseIndexHeaders(bytes.subarray(0, HEADER_LIMIT));
        size = bytes.length + bareLineFeeds(bytes);
      }
    } catch {
      continue;
    }
    found.push({
      maildirName: c.base,
      path,
      size,
      internalDate: Math.floor(c.mtimeMs),
      flags: { ...systemFlagsOf(c.info), keywords: keywordsOfLetters(dir, c.info.replace(/[^a-z]/g, '')) },
      headers,
    });
  }
  return found;
}

/** Forgets what was read of a folder (it was removed or renamed). */
export function forgetPickup(dir: string): void {
  seen.delete(dir);
}
