/**
 * Message files Mailyard has put into a cur/ but not indexed yet (an SMTP delivery waiting for its commit, an
 * APPEND or COPY between its file and its index insert). Rules: a name is held from before its file appears in
 * cur/ until its index row is committed or the file is removed; the Maildir pickup (pickup.ts) never indexes a
 * held name, so a message is never indexed twice. Per process: Mailyard is the only indexer of its mail_dir.
 */
const held = new Set<string>();

export function hold(names: Iterable<string>): void {
  for (const n of names) held.add(n);
}

export function release(names: Iterable<string>): void {
  for (const n of names) held.delete(n);
}

export const isHeld = (name: string): boolean => held.has(name);
