/**
 * Spool files of the outbound queue (<mail_dir>/.queue, one per message, shared by its rows). Rules: a file is
 * removed only after the rows referencing it are gone (the repository reports which files no row references, in
 * the transaction that removed the rows); removal is quiet: a file already gone is fine, any other failure is
 * logged and never thrown (a leftover file wastes space, it loses no mail).
 */
import { unlink } from 'node:fs/promises';

export interface SpoolLog {
  warn(obj: Record<string, unknown>, msg: string): void;
}

/** Unlinks the given spool files; resolves to how many were removed (already-missing files do not count). */
export async function removeUnreferenced(files: string[], log: SpoolLog): Promise<number> {
  let removed = 0;
  await Promise.all(
    [...new Set(files)].map(async (file) => {
      try {
        await unlink(file);
        removed++;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
          log.warn({ file, err: (e as Error).message }, 'queue spool file not removed');
      }
    }),
  );
  return removed;
}
