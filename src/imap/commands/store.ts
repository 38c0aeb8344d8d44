/**
 * STORE and UID STORE (RFC 3501 6.4.6, RFC 7162 3.1.3 UNCHANGEDSINCE). Rules: refused in a read-only mailbox;
 * the index changes first (one transaction, one new mod-sequence), then the Maildir names are renamed; unless
 * .SILENT, every matched message is answered with its FLAGS (and UID for UID STORE, MODSEQ under CONDSTORE);
 * messages skipped because of UNCHANGEDSINCE are listed in [MODIFIED].
 */
import { flagsOf, type StoreMode } from '../../repos/messages.ts';
import { type SeqRange, toSequenceSet } from '../protocol/sequenceSet.ts';
import { ImapBad, ImapNo, type Token } from '../protocol/types.ts';
import type { SelectedSession } from '../state.ts';
import { atomArg, flagsArg, listArg, numberArg } from './args.ts';
import { sequenceSetArg, uidsOf } from './sets.ts';
import { selected } from './types.ts';

interface StoreArgs {
  set: SeqRange[];
  unchangedSince?: number;
  mode: StoreMode;
  silent: boolean;
  flags: string[];
}

function parse(args: Token[]): StoreArgs {
  let i = 1;
  let unchangedSince: number | undefined;
  if (args[1]?.type === 'list') {
    const mods = listArg(args[1], 'store modifiers');
    if (atomArg(mods[0], 'UNCHANGEDSINCE').toUpperCase() !== 'UNCHANGEDSINCE' || mods.length !== 2)
      throw new ImapBad('Unknown STORE modifier');
    unchangedSince = numberArg(mods[1], 'UNCHANGEDSINCE');
    i = 2;
  }
  const op = atomArg(args[i], '+FLAGS, -FLAGS or FLAGS').toUpperCase();
  const m = /^([+-]?)FLAGS(\.SILENT)?$/.exec(op);
  if (!m) throw new ImapBad(`Invalid STORE item ${op.slice(0, 30)}`);
  const flags = flagsArg(args[i + 1]?.type === 'list' ? args[i + 1] : rest(args, i + 1));
  const mode: StoreMode = m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'replace';
  return { set: sequenceSetArg(args[0]), unchangedSince, mode, silent: !!m[2], flags };
}

function run(byUid: boolean) {
  return async (s: SelectedSession, { set, unchangedSince, mode, silent, flags }: StoreArgs) => {
    const box = s.selected;
    if (unchangedSince !== undefined) s.condstoreUsed = true;
    if (box.readOnly) throw new ImapNo('Mailbox is read-only', 'READ-ONLY');
    const uids = uidsOf(box, set, byUid);
    const user = s.user;
    const r = s.deps.mail.setFlags(user, box.box, uids, mode, flags, unchangedSince);
    box.own(r.changed[0]?.modseq ?? 0);
    await r.files;
    const changed = new Set(r.changed.map((c) => c.uid));
    const modified = new Set(r.modified);
    if (!silent || s.condstore) {
      for (const row of s.deps.index.messages.rows(box.id, uids)) {
        if (modified.has(row.uid)) continue;
        // RFC 7162 3.2: with .SILENT under CONDSTORE, messages whose modseq changed are still reported.
        if (silent && !(changed.has(row.uid) && unchangedSince !== undefined)) continue;
        const seq = box.seqOf(row.uid);
        if (!seq) continue;
        const f = flagsOf(row);
        if (box.recent.has(row.uid)) f.push('\\Recent');
        const parts = [`FLAGS (${f.join(' ')})`];
        if (byUid) parts.unshift(`UID ${row.uid}`);
        if (s.condstore) parts.push(`MODSEQ (${row.modseq})`);
        s.untagged(`${seq} FETCH (${parts.join(' ')})`);
      }
    }
    if (r.modified.length) {
      const ids = byUid ? r.modified : r.modified.map((u) => box.seqOf(u)).filter(Boolean);
      return {
        code: `MODIFIED ${toSequenceSet(ids.sort((a, b) => a - b))}`,
        text: 'Conditional STORE failed for some',
      };
    }
    return undefined;
  };
}

/** `+FLAGS \Seen \Flagged` without parentheses (allowed by RFC 3501's store-att-flags). */
function rest(args: Token[], from: number): Token {
  return { type: 'list', items: args.slice(from) };
}

export const store = selected({ name: 'STORE', parse, run: run(false), expungeAllowed: false });
export const uidStore = selected({ name: 'UID STORE', parse, run: run(true), syncBefore: true });
