/**
 * Maildir++ layout, compatible with Dovecot (`mail_location = maildir:<mail_dir>/%d/%n`): a user's INBOX is
 * <mail_dir>/<domain>/<local>/{cur,new,tmp}; folder "Sent" is <user>/.Sent, "Archive/2025" is <user>/.Archive.2025.
 * File names are `<unique>,S=<size>:2,<flags>` (S= lets Dovecot skip stat; flags sorted: D F P R S T).
 * Rules: a file appears in cur/ or new/ only by an atomic link or rename from a complete, fsync'd file; the
 * directory entry is fsync'd before the message is indexed; a file in tmp/ not modified for 36 hours is a
 * leftover (of a crash during delivery) and is removed the first time this process uses the folder (the
 * Maildir convention; Dovecot does the same).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { open, readdir, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

const HOST = hostname().replace(/\//g, '\\057').replace(/:/g, '\\072');
let counter = 0;

let lastMicros = 0;

/**
 * A name unique on this host: wall-clock seconds and microseconds, pid and a per-process counter (the Maildir
 * convention). The time part never goes backwards within a process, so names sort in delivery order (Dovecot
 * numbers messages it has not seen before in name order).
 */
export function uniqueName(): string {
  const micros = Math.max(Math.floor((performance.timeOrigin + performance.now()) * 1000), lastMicros + 1);
  lastMicros = micros;
  counter = (counter + 1) % 1_000_000_000;
  return `${Math.floor(micros / 1_000_000)}.M${String(micros % 1_000_000).padStart(6, '0')}P${process.pid}Q${counter}.${HOST}`;
}

export interface SystemFlags {
  seen: boolean;
  answered: boolean;
  flagged: boolean;
  deleted: boolean;
  draft: boolean;
}

/** A message's flags as the index has them; the file name's info part is derived from them. */
export interface FileFlags extends SystemFlags {
  keywords: readonly string[];
}

/** The system-flag letters of a Maildir info part, in Dovecot's order: D F R S T. */
export function systemLetters(f: SystemFlags): string {
  return `${f.draft ? 'D' : ''}${f.flagged ? 'F' : ''}${f.answered ? 'R' : ''}${f.seen ? 'S' : ''}${f.deleted ? 'T' : ''}`;
}

/** The system flags an info part's letters name (the inverse of systemLetters; other letters are ignored). */
export function systemFlagsOf(letters: string): SystemFlags {
  return {
    draft: letters.includes('D'),
    flagged: letters.includes('F'),
    answered: letters.includes('R'),
    seen: letters.includes('S'),
    deleted: letters.includes('T'),
  };
}

export function userDir(mailDir: string, domain: string, local: string): string {
  if (/[/\0]/.test(local) || local === '.' || local === '..' || /[/\0]/.test(domain))
    throw new Error(`unsafe mailbox path component in ${local}@${domain}`);
  return join(mailDir, domain, local);
}

export function folderDir(userRoot: string, mailbox: string): string {
  if (mailbox.toUpperCase() === 'INBOX') return userRoot;
  return join(userRoot, `.${mailbox.split('/').join('.')}`);
}

const ensured = new Set<string>();

/** Forgets that `dir` (and folders below it) exist: after a folder is deleted or renamed away. */
export function forgetMaildir(dir: string): void {
  for (const d of ensured) if (d === dir || d.startsWith(`${dir}/`)) ensured.delete(d);
}

/**
 * Creates cur/ new/ tmp/ (and Maildir++'s maildirfolder marker for subfolders) once per process, and starts a
 * sweep of tmp/'s leftovers.
 */
export function ensureMaildir(dir: string, isSubfolder: boolean): void {
  if (ensured.has(dir)) return;
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });
  if (isSubfolder) writeFileSync(join(dir, 'maildirfolder'), '', { flag: 'a' });
  ensured.add(dir);
  void sweepTmp(join(dir, 'tmp'));
}

/** How long a file may sit in tmp/ untouched before it counts as a leftover (Maildir: 36 hours). */
export const TMP_MAX_AGE_MS = 36 * 3600 * 1000;

/** Removes files in `tmp` not modified for TMP_MAX_AGE_MS. Never throws (a sweep that fails is retried next start). */
export async function sweepTmp(tmp: string, now = Date.now()): Promise<number> {
  let removed = 0;
  try {
    for (const f of await readdir(tmp)) {
      const path = join(tmp, f);
      try {
        const st = await stat(path);
        if (st.isFile() && now - st.mtimeMs > TMP_MAX_AGE_MS) {
          await unlink(path);
          removed++;
        }
      } catch {
        // gone meanwhile, or not ours to remove
      }
    }
  } catch {
    // no tmp/ (yet)
  }
  return removed;
}

/** fsync of a directory on libuv's thread pool (the event loop goes on serving other sessions). */
export async function fsyncDirAsync(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
