/**
 * The compiled form of an IMAP SEARCH (RFC 3501 6.4.4, RFC 9051 6.4.4, RFC 7162 3.1.5). Rules: every key of the
 * grammar maps onto a few primitives (FROM is `header from`, NEW is `recent AND NOT \Seen`, UNSEEN is
 * `NOT \Seen`...); dates are whole days counted from 1970-01-01; strings are already decoded to Unicode.
 */
import type { SeqRange } from '../protocol/sequenceSet.ts';

export type DateOp = 'before' | 'on' | 'since';

export type SearchKey =
  | { type: 'all' }
  | { type: 'flag'; flag: string } // a system flag (`\Seen`) or a keyword, matched case-insensitively
  | { type: 'recent' }
  | { type: 'seq'; set: SeqRange[] }
  | { type: 'uid'; set: SeqRange[] }
  | { type: 'size'; op: 'larger' | 'smaller'; size: number }
  | { type: 'modseq'; modseq: bigint; entry?: { name: string; kind: 'priv' | 'shared' | 'all' } }
  | { type: 'internaldate'; op: DateOp; day: number }
  | { type: 'sentdate'; op: DateOp; day: number }
  | { type: 'header'; name: string; value: string } // name lower-cased, value as given
  | { type: 'body'; value: string }
  | { type: 'text'; value: string }
  | { type: 'and'; keys: SearchKey[] }
  | { type: 'or'; left: SearchKey; right: SearchKey }
  | { type: 'not'; key: SearchKey };

export interface SearchProgram {
  root: SearchKey;
  /** The CHARSET given (upper-cased), or null. Strings are decoded as UTF-8 either way. */
  charset: string | null;
  /** A MODSEQ key appears: the untagged SEARCH response must end with `(MODSEQ n)` (RFC 7162 3.1.5). */
  usesModseq: boolean;
  /** Some key reads the header section (HEADER, FROM, ..., SENT*) or the body (BODY, TEXT). */
  needsHeaders: boolean;
  needsBody: boolean;
}

/** RFC 4731 / RFC 9051 return options; RFC 5182 SAVE is parsed only. */
export type SearchReturnOption = 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'SAVE';
