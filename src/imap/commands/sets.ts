// A command's sequence set: parsed with the arguments, resolved against the selected mailbox when the command
// runs. Rules: for message numbers, a number above the message count is BAD (RFC 3501 9 "seq-number"), except `*`
// in an empty mailbox which matches nothing; UID sets match the UIDs present (RFC 3501 6.4.8); results are UIDs,
// ascending.
import { parseSequenceSet, resolveSequenceSet, type SeqRange } from '../protocol/sequenceSet.ts';
import { ImapBad, type Token } from '../protocol/types.ts';
import type { SelectedMailbox } from '../selected.ts';
import { atomArg } from './args.ts';

export function sequenceSetArg(t: Token | undefined, what = 'a sequence set'): SeqRange[] {
  return parseSequenceSet(atomArg(t, what));
}

export function uidsOf(box: SelectedMailbox, ranges: SeqRange[], byUid: boolean): number[] {
  if (byUid) return resolveSequenceSet(ranges, box.uids);
  const count = box.uids.length;
  for (const [a, b] of ranges) {
    if ((a !== Number.POSITIVE_INFINITY && a > count) || (b !== '*' && b > count))
      if (count > 0 || a !== Number.POSITIVE_INFINITY) throw new ImapBad('Invalid message sequence number');
  }
  const seqs = resolveSequenceSet(
    ranges,
    Array.from({ length: count }, (_, i) => i + 1),
  );
  return seqs.map((n) => box.uids[n - 1]!);
}
