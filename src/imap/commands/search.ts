/**
 * SEARCH and UID SEARCH (RFC 3501 6.4.4, RFC 4731 ESEARCH, RFC 7162 3.1.5 MODSEQ). Rules: criteria are matched
 * against the index first and message files are read only for header/body keys; results are sequence numbers
 * (or UIDs for UID SEARCH) of what this session knows; with a MODSEQ key the reply ends with the highest
 * mod-sequence of the matches; RETURN (...) answers ESEARCH instead; SAVE (SEARCHRES) is not supported.
 */
import { flagsOf } from '../../repos/messages.ts';
import { toSequenceSet } from '../protocol/sequenceSet.ts';
import { ImapBad, type Token } from '../protocol/types.ts';
import { quote } from '../protocol/writer.ts';
import { type SearchMessage, searchMessages } from '../search/evaluate.ts';
import { parseSearch, parseSearchReturn, type SearchProgram, type SearchReturnOption } from '../search/parse.ts';
import type { SelectedSession } from '../state.ts';
import { selected } from './types.ts';

interface SearchArgs {
  /** RETURN (...) options: ESEARCH is answered when set. */
  options: SearchReturnOption[] | null;
  program: SearchProgram;
}

function parse(args: Token[]): SearchArgs {
  const { options, rest } = parseSearchReturn(args);
  if (options?.includes('SAVE')) throw new ImapBad('SEARCH RETURN (SAVE) is not supported');
  return { options, program: parseSearch(rest, {}) };
}

function run(byUid: boolean) {
  return async (s: SelectedSession, { options, program }: SearchArgs, tag: string) => {
    const box = s.selected;
    if (program.usesModseq) s.condstoreUsed = true;
    const rows = s.deps.index.messages.flagRows(box.id);
    const known = new Set(box.uids);
    const byUidRow = new Map<number, (typeof rows)[number]>();
    const msgs: SearchMessage[] = [];
    for (const r of rows) {
      if (!known.has(r.uid)) continue;
      byUidRow.set(r.uid, r);
      msgs.push({
        seq: box.seqOf(r.uid),
        uid: r.uid,
        modseq: r.modseq,
        flags: new Set(flagsOf(r)),
        recent: box.recent.has(r.uid),
        internalDate: r.internal_date,
        size: r.size,
      });
    }
    const user = s.user;
    const found = await searchMessages(program, msgs, {
      messageCount: box.uids.length,
      maxUid: box.uids.length ? box.uids[box.uids.length - 1]! : 0,
      loadRaw: (m) => {
        const r = byUidRow.get(m.uid)!;
        return s.deps.mail.read(user, box.box.name, r);
      },
    });
    const ids = found.map((m) => (byUid ? m.uid : m.seq)).sort((a, b) => a - b);
    const maxModseq = found.reduce((n, m) => Math.max(n, m.modseq), 0);
    if (options) {
      let out = `ESEARCH (TAG ${quote(tag)})${byUid ? ' UID' : ''}`;
      if (ids.length) {
        if (options.includes('MIN')) out += ` MIN ${ids[0]}`;
        if (options.includes('MAX')) out += ` MAX ${ids[ids.length - 1]}`;
        if (options.includes('ALL')) out += ` ALL ${toSequenceSet(ids)}`;
      }
      if (options.includes('COUNT')) out += ` COUNT ${ids.length}`;
      if (program.usesModseq && ids.length) out += ` MODSEQ ${maxModseq}`;
      s.untagged(out);
    } else {
      s.untagged(
        `SEARCH${ids.length ? ` ${ids.join(' ')}` : ''}${program.usesModseq && ids.length ? ` (MODSEQ ${maxModseq})` : ''}`,
      );
    }
    return undefined;
  };
}

export const search = selected({ name: 'SEARCH', parse, run: run(false), expungeAllowed: false });
export const uidSearch = selected({ name: 'UID SEARCH', parse, run: run(true), syncBefore: true });
