/**
 * The files behind IMAP operations on a user's Maildir++ (see maildir.ts for the layout). Rules: a message file
 * is `cur/<maildir_name>:2,<letters>`, the letters mirroring the index's system flags; the index is the truth,
 * so a reader that misses a file under its expected name looks for the same base name with other letters (a
 * crash between the index commit and the rename, or Dovecot having renamed it); new files (APPEND, COPY) are
 * complete and fsync'd, and their directory fsync'd, before the caller indexes them, and held (held.ts) until the
 * caller has indexed or removed them (it calls release()); files of expunged messages
 * are unlinked only after the index commit; keywords appear as Dovecot's keyword letters (keywords.ts).
 */
import { existsSync, linkSync, readdirSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { toCrlf } from './crlf.ts';
import { hold, release } from './held.ts';
import { keywordLetters } from './keywords.ts';
import {
  ensureMaildir,
  type FileFlags,
  folderDir,
  forgetMaildir,
  fsyncDirAsync,
  systemLetters,
  uniqueName,
  userDir,
} from './maildir.ts';
import { forgetPickup } from './pickup.ts';

export class UserMaildir {
  readonly root: string;

  constructor(mailDir: string, email: string) {
    const at = email.lastIndexOf('@');
    this.root = userDir(mailDir, email.slice(at + 1), email.slice(0, at));
  }

  dir(mailbox: string): string {
    return folderDir(this.root, onDiskName(mailbox));
  }

  /** The info letters for `f` in `mailbox`: system flags (D F R S T) then keyword letters, as Dovecot sorts them. */
  letters(mailbox: string, f: FileFlags, assign = false): string {
    return systemLetters(f) + keywordLetters(this.dir(mailbox), f.keywords, assign);
  }

  file(mailbox: string, maildirName: string, f: FileFlags): string {
    return join(this.dir(mailbox), 'cur', `${maildirName}:2,${this.letters(mailbox, f)}`);
  }

  ensure(mailbox: string): string {
    const dir = this.dir(mailbox);
    ensureMaildir(dir, mailbox.toUpperCase() !== 'INBOX');
    return dir;
  }

  /**
   * The message bytes with CRLF line ends (a file stored with bare LFs, as Dovecot and most MDAs store them, is
   * served in the form IMAP requires); falls back to a scan of cur/ and new/ for the base name.
   */
  async read(mailbox: string, maildirName: string, flags: FileFlags): Promise<Buffer> {
    try {
      return toCrlf(await readFile(this.file(mailbox, maildirName, flags)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      const found = this.find(mailbox, maildirName);
      if (!found) throw new Error(`message file ${maildirName} is missing from ${this.dir(mailbox)}`);
      return toCrlf(await readFile(found));
    }
  }

  find(mailbox: string, maildirName: string): string | undefined {
    for (const sub of ['cur', 'new']) {
      const d = join(this.dir(mailbox), sub);
      if (!existsSync(d)) continue;
      const hit = readdirSync(d).find((f) => f === maildirName || f.startsWith(`${maildirName}:`));
      if (hit) return join(d, hit);
    }
    return undefined;
  }

  /** Mirrors flag changes into file names (after the index commit; failures are returned, not thrown). */
  async renameFlags(
    mailbox: string,
    renames: { maildirName: string; from: FileFlags; to: FileFlags }[],
  ): Promise<number> {
    let failed = 0;
    await Promise.all(
      renames.map(async (r) => {
        const dir = join(this.dir(mailbox), 'cur');
        const target = join(dir, `${r.maildirName}:2,${this.letters(mailbox, r.to, true)}`);
        const source = this.file(mailbox, r.maildirName, r.from);
        if (source === target) return;
        try {
          await rename(source, target);
        } catch {
          const found = this.find(mailbox, r.maildirName);
          if (found && found !== target) {
            try {
              renameSync(found, target);
              return;
            } catch {
              // counted below
            }
          }
          if (!found) failed++;
        }
      }),
    );
    return failed;
  }

  /** Writes a new message file into `mailbox` (tmp/ -> fsync -> link into cur/ -> fsync cur/). */
  async writeNew(mailbox: string, data: Buffer, flags: FileFlags): Promise<{ maildirName: string; path: string }> {
    const dir = this.ensure(mailbox);
    const base = `${uniqueName()},S=${data.length}`;
    const tmp = join(dir, 'tmp', base);
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    const path = join(dir, 'cur', `${base}:2,${this.letters(mailbox, flags, true)}`);
    // Held until the caller has indexed it (or removed it): see held.ts.
    hold([base]);
    try {
      linkSync(tmp, path);
      await fsyncDirAsync(join(dir, 'cur'));
    } catch (e) {
      removeQuietly([path]);
      release([base]);
      throw e;
    } finally {
      await unlink(tmp).catch(() => {});
    }
    return { maildirName: base, path };
  }

  /**
   * Hard-links existing messages into `mailbox` under new unique names (COPY/MOVE), then fsyncs the target's cur/.
   * On failure, removes what it created and throws.
   */
  async linkInto(
    fromMailbox: string,
    toMailbox: string,
    items: { maildirName: string; flags: FileFlags; size: number }[],
  ): Promise<{ maildirName: string; path: string }[]> {
    const dir = this.ensure(toMailbox);
    const created: { maildirName: string; path: string }[] = [];
    try {
      for (const it of items) {
        const base = `${uniqueName()},S=${it.size}`;
        const path = join(dir, 'cur', `${base}:2,${this.letters(toMailbox, it.flags, true)}`);
        let src = this.file(fromMailbox, it.maildirName, it.flags);
        if (!existsSync(src)) src = this.find(fromMailbox, it.maildirName) ?? src;
        linkSync(src, path);
        created.push({ maildirName: base, path });
        hold([base]);
      }
      await fsyncDirAsync(join(dir, 'cur'));
      return created;
    } catch (e) {
      removeQuietly(created.map((c) => c.path));
      release(created.map((c) => c.maildirName));
      throw e;
    }
  }

  /** Unlinks files of expunged messages (after the commit). */
  remove(mailbox: string, items: { maildirName: string; flags: FileFlags }[]): void {
    for (const it of items) {
      const p = this.file(mailbox, it.maildirName, it.flags);
      try {
        unlinkSync(p);
      } catch {
        const found = this.find(mailbox, it.maildirName);
        if (found) removeQuietly([found]);
      }
    }
  }

  /** Renames a folder directory (RENAME); missing source directories are fine (nothing delivered yet). */
  renameFolder(from: string, to: string): void {
    const a = this.dir(from);
    const b = this.dir(to);
    if (existsSync(a)) renameSync(a, b);
    forgetMaildir(a);
    forgetPickup(a);
    forgetPickup(b);
    this.ensure(to);
  }

  /** Removes a deleted mailbox's directory (its own files only; children are separate Maildir++ folders). */
  removeFolder(mailbox: string): void {
    if (mailbox.toUpperCase() === 'INBOX') return;
    rmSync(this.dir(mailbox), { recursive: true, force: true });
    forgetMaildir(this.dir(mailbox));
    forgetPickup(this.dir(mailbox));
  }
}

/** IMAP name -> Maildir++ folder component: '/' is the hierarchy, so a literal '.' in a name is escaped. */
export function onDiskName(mailbox: string): string {
  return mailbox
    .split('/')
    .map((p) => p.replace(/[\\.]/g, (c) => (c === '.' ? '\\2e' : '\\5c')))
    .join('/');
}

export function removeQuietly(paths: string[]): void {
  for (const p of paths) {
    try {
      unlinkSync(p);
    } catch {
      // already gone
    }
  }
}
