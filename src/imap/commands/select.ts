/**
 * SELECT and EXAMINE (RFC 3501 6.3.1-6.3.2, RFC 7162 3.1.8 CONDSTORE, 3.2.5 QRESYNC). Rules: selecting leaves any
 * previously selected mailbox first (and says so with [CLOSED] when one was selected, RFC 7162 3.2.11); EXAMINE
 * opens read-only and claims no \Recent; PERMANENTFLAGS allows any keyword (\*); with CONDSTORE the reply carries
 * HIGHESTMODSEQ; QRESYNC reports VANISHED (EARLIER) and changed FLAGS since the client's known mod-sequence.
 */
import { flagsOf } from '../../repos/messages.ts';
import { parseSequenceSet, resolveSequenceSet, toSequenceSet } from '../protocol/sequenceSet.ts';
import { ImapBad, ImapNo, type Token } from '../protocol/types.ts';
import { SelectedMailbox } from '../selected.ts';
import type { AuthenticatedSession } from '../state.ts';
import { atomArg, listArg, mailboxArg, numberArg } from './args.ts';
import { authenticated } from './types.ts';

interface SelectArgs {
  name: string;
  condstore: boolean;
  /** QRESYNC parameters (RFC 7162 3.2.5): what the client knew. */
  qresync?: { uidvalidity: number; modseq: number; known?: string };
}

function parse(args: Token[]): SelectArgs {
  const name = mailboxArg(args[0]);
  let condstore = false;
  let qresync: SelectArgs['qresync'];
  if (args[1]) {
    const params = listArg(args[1], 'select parameter list');
    for (let i = 0; i < params.length; i++) {
      const p = atomArg(params[i], 'a select parameter').toUpperCase();
      if (p === 'CONDSTORE') condstore = true;
      else if (p === 'QRESYNC') {
        const q = listArg(params[++i], 'QRESYNC parameters');
        qresync = {
          uidvalidity: numberArg(q[0], 'uidvalidity'),
          modseq: numberArg(q[1], 'mod-sequence'),
          known: q[2] ? atomArg(q[2], 'known UIDs') : undefined,
        };
      } else throw new ImapBad(`Unknown select parameter ${p.slice(0, 30)}`);
    }
  }
  if (args.length > 2) throw new ImapBad('Too many arguments');
  return { name, condstore, qresync };
}

function open(readOnly: boolean) {
  return async (s: AuthenticatedSession, { name, condstore, qresync }: SelectArgs) => {
    // Whether QRESYNC is enabled is the session's: checked here, not while parsing.
    if (qresync && !s.qresync) throw new ImapBad('QRESYNC must be ENABLEd first');
    const hadSelected = s.state.kind === 'selected';
    s.deselect();
    if (hadSelected) s.untagged('OK [CLOSED] Previous mailbox closed');
    const user = s.user;
    const box = s.deps.index.mailboxes.get(user.id, name);
    if (!box) throw new ImapNo(`Mailbox ${name} does not exist`, 'NONEXISTENT');
    if (condstore) s.condstoreUsed = true;
    await s.deps.mail.pickUp(user, box);
    const uids = s.deps.index.messages.uids(box.id);
    const recent = readOnly ? new Set<number>() : s.deps.hub.claimRecent(box.id, uids);
    const sel = new SelectedMailbox(box, readOnly, uids, recent);
    const unwatch = s.deps.hub.watch(box.id, s);
    s.state = { kind: 'selected', user, box: sel, unwatch };
    const status = s.deps.index.mailboxes.status(box.id);
    sel.highestModseq = Math.max(sel.highestModseq, status.highestmodseq);
    s.untagged('FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)');
    s.untagged(
      readOnly
        ? 'OK [PERMANENTFLAGS ()] Read-only mailbox'
        : 'OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted',
    );
    s.untagged(`${uids.length} EXISTS`);
    s.untagged(`${recent.size} RECENT`);
    const firstUnseen = s.deps.index.messages.firstUnseen(box.id);
    if (firstUnseen) {
      const seq = sel.seqOf(firstUnseen);
      if (seq) s.untagged(`OK [UNSEEN ${seq}] First unseen`);
    }
    s.untagged(`OK [UIDVALIDITY ${box.uidvalidity}] UIDs valid`);
    s.untagged(`OK [UIDNEXT ${status.uidnext}] Predicted next UID`);
    s.untagged(`OK [HIGHESTMODSEQ ${status.highestmodseq}] Highest`);
    if (qresync && qresync.uidvalidity === box.uidvalidity) {
      let vanished = s.deps.index.messages.expungedSince(box.id, qresync.modseq);
      if (qresync.known) {
        const known = parseSequenceSet(qresync.known);
        vanished = vanished.filter((u) => resolveSequenceSet(known, [u]).length > 0);
      }
      if (vanished.length) s.untagged(`VANISHED (EARLIER) ${toSequenceSet(vanished)}`);
      for (const r of s.deps.index.messages.changedSince(box.id, qresync.modseq)) {
        const seq = sel.seqOf(r.uid);
        if (seq) s.untagged(`${seq} FETCH (UID ${r.uid} FLAGS (${flagsOf(r).join(' ')}) MODSEQ (${r.modseq}))`);
      }
    }
    return { code: readOnly ? 'READ-ONLY' : 'READ-WRITE', text: `${readOnly ? 'EXAMINE' : 'SELECT'} completed` };
  };
}

export const select = authenticated({ name: 'SELECT', parse, run: open(false) });
export const examine = authenticated({ name: 'EXAMINE', parse, run: open(true) });
