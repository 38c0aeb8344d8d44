// Putting a delivery's files in place and making their names durable, right before the index commit: run on the
// commit thread (commitThread.ts), or in-process when the index has no second connection, hence plain JavaScript.
// Rules, in this order: each job's steps run in order (renamed, or hard-linked; copied and fdatasync'd where a
// rename or link is impossible, across filesystems); a job whose step fails is failed alone (the caller removes its files
// and the index writes no row for it); then the directories the batch names are fsync'd, and if one fails every
// job fails (a committed row always has a durable directory entry); never throws.
// Doing the renames on the thread that fsyncs their directories keeps them off the event loop and out of the way
// of that fsync (a rename into a directory being fsync'd waits for its write).
import {
  closeSync,
  constants,
  copyFileSync,
  fdatasyncSync,
  fsyncSync,
  linkSync,
  openSync,
  renameSync,
  unlinkSync,
} from 'node:fs';

/** @param {import('./placeFiles.d.mts').FileStep[]} steps */
function placeFiles(steps) {
  for (const { from, to, move } of steps) {
    try {
      if (move) renameSync(from, to);
      else linkSync(from, to);
    } catch (e) {
      if (/** @type {NodeJS.ErrnoException} */ (e).code !== 'EXDEV') throw e;
      // Another filesystem (a folder mounted elsewhere): a copy, durable like the original before its directory
      // is fsync'd; a move then removes its source.
      copyFileSync(from, to, constants.COPYFILE_EXCL);
      const fd = openSync(to, 'r+');
      try {
        fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
      if (move) unlinkSync(from);
    }
  }
}

/** @param {string} dir */
function syncDir(dir) {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * @param {import('./placeFiles.d.mts').FileStep[][]} jobs each job's steps
 * @param {readonly string[]} syncDirs
 * @returns {(Error | null)[]} per job: why it failed, or null
 */
export function placeBatch(jobs, syncDirs) {
  const failed = jobs.map((steps) => {
    try {
      placeFiles(steps);
      return null;
    } catch (error) {
      return /** @type {Error} */ (error);
    }
  });
  try {
    for (const dir of syncDirs) syncDir(dir);
  } catch (error) {
    return jobs.map(() => /** @type {Error} */ (error));
  }
  return failed;
}
