// Types of placeFiles.mjs (plain JavaScript so the commit thread can load it without a TypeScript loader).

/**
 * A file a delivery puts in place before it is indexed: renamed (`move`), or hard-linked (copied and fdatasync'd
 * where a link is impossible, across filesystems).
 */
export interface FileStep {
  from: string;
  to: string;
  move: boolean;
}

export function placeBatch(jobs: FileStep[][], syncDirs: readonly string[]): (Error | null)[];
