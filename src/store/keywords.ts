/**
 * IMAP keywords in Maildir file names, as Dovecot does it: each folder has a `dovecot-keywords` file of lines
 * "<index> <keyword>", and a message's keywords are the letters 'a' + index in its info part (after the system
 * flags: ":2,FSab"). Rules: at most 26 keywords per folder get a letter (others stay in the index only, which is
 * always the truth); the file only grows and is replaced atomically (write, fsync, rename); a folder's mapping is
 * cached per process and re-read when the file's mtime changes (Dovecot may add keywords too).
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const KEYWORDS_FILE = 'dovecot-keywords';
const MAX_LETTERS = 26;

interface Mapping {
  mtimeMs: number;
  byKeyword: Map<string, number>;
  list: string[];
}

const cache = new Map<string, Mapping>();

function load(dir: string): Mapping {
  const file = join(dir, KEYWORDS_FILE);
  let mtimeMs = -1;
  try {
    mtimeMs = statSync(file).mtimeMs;
  } catch {
    // no file yet
  }
  const cached = cache.get(dir);
  if (cached && cached.mtimeMs === mtimeMs) return cached;
  const list: string[] = [];
  if (mtimeMs >= 0)
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const m = /^(\d+) (.+)$/.exec(line);
      if (m && Number(m[1]) < MAX_LETTERS) list[Number(m[1])] = m[2]!;
    }
  const byKeyword = new Map<string, number>();
  list.forEach((k, i) => {
    if (k !== undefined) byKeyword.set(k.toLowerCase(), i);
  });
  const mapping = { mtimeMs, byKeyword, list };
  cache.set(dir, mapping);
  return mapping;
}

function save(dir: string, m: Mapping): void {
  const file = join(dir, KEYWORDS_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, m.list.map((k, i) => (k === undefined ? '' : `${i} ${k}\n`)).join(''));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  m.mtimeMs = statSync(file).mtimeMs;
}

/**
 * The keyword letters (sorted) for `keywords` in the folder `dir`. With `assign`, keywords without a letter get
 * the next free one (and the file is updated); without it, unknown keywords are left out.
 */
export function keywordLetters(dir: string, keywords: readonly string[], assign: boolean): string {
  if (!keywords.length) return '';
  const m = load(dir);
  const letters: string[] = [];
  let changed = false;
  for (const k of keywords) {
    let i = m.byKeyword.get(k.toLowerCase());
    if (i === undefined && assign && m.list.length < MAX_LETTERS) {
      i = m.list.length;
      m.list.push(k);
      m.byKeyword.set(k.toLowerCase(), i);
      changed = true;
    }
    if (i !== undefined) letters.push(String.fromCharCode(97 + i));
  }
  if (changed) save(dir, m);
  return letters.sort().join('');
}

/** The keywords named by the letters a-z of an info part, per the folder's dovecot-keywords (unknown: left out). */
export function keywordsOfLetters(dir: string, letters: string): string[] {
  if (!letters) return []; // most files: no keyword letters, no need to look at dovecot-keywords
  const m = load(dir);
  const out: string[] = [];
  for (const c of letters) {
    const k = c >= 'a' && c <= 'z' ? m.list[c.charCodeAt(0) - 97] : undefined;
    if (k !== undefined && !out.includes(k)) out.push(k);
  }
  return out;
}
