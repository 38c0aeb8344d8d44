/**
 * Runs a compiled SEARCH over messages (RFC 3501 6.4.4, RFC 9051 6.4.4, RFC 7162 3.1.5). Rules:
 * - cheap keys (flags, sets, sizes, dates, MODSEQ) are decided first for every message with three-valued logic;
 *   only messages still undecided have their bytes loaded, once, and AND/OR are ordered cheap -> header -> body
 *   so the rest short-circuits;
 * - flags and keywords match case-insensitively; NEW = RECENT and not \Seen, OLD = not RECENT;
 * - `*` is the message count for sequence sets and the highest UID for UID sets, so `UID 900:*` matches the last
 *   message even when 900 is above every UID; sequence numbers past the end simply match nothing;
 * - SINCE/BEFORE/ON compare the day of INTERNALDATE in `timezoneOffsetMinutes` (default 0 = UTC, a deliberate
 *   choice so results do not depend on the host's zone); SINCE d includes d, BEFORE d excludes it;
 * - SENT* use the day written in the Date: field (its own zone); without a readable Date: they use INTERNALDATE;
 * - LARGER/SMALLER are strict; MODSEQ n matches mod-sequences >= n (entry names are accepted and ignored, as
 *   flags have no separate mod-sequences here);
 * - HEADER/FROM/.../SUBJECT, BODY and TEXT are case-insensitive substring tests on decoded text (content.ts);
 *   `HEADER name ""` matches every message that has the field.
 */
import { inSequenceSet } from '../protocol/sequenceSet.ts';
import { MessageContent } from './content.ts';
import { dayOf } from './dates.ts';
import type { DateOp, SearchKey, SearchProgram } from './types.ts';

export interface SearchMessage {
  seq: number;
  uid: number;
  modseq: number;
  /** System flags as '\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft' plus keywords as stored. */
  flags: ReadonlySet<string>;
  recent: boolean;
  /** ms since the epoch */
  internalDate: number;
  /** RFC822.SIZE */
  size: number;
}

export interface SearchContext {
  /** What `*` means in a message sequence set. */
  messageCount: number;
  /** What `*` means in a UID set. */
  maxUid: number;
  /** The zone (minutes east of UTC) INTERNALDATE days are taken in for SINCE/BEFORE/ON; default 0 (UTC). */
  timezoneOffsetMinutes?: number;
  /** The full message bytes; only called for messages a content key still has to decide. */
  loadRaw(m: SearchMessage): Promise<Buffer>;
}

type Tri = boolean | undefined;

/** The messages (in the given order) that match the program. */
export async function searchMessages(
  program: SearchProgram,
  messages: SearchMessage[],
  ctx: SearchContext,
): Promise<SearchMessage[]> {
  const root = order(program.root);
  const ev = new Evaluator(ctx);
  const out: SearchMessage[] = [];
  for (const m of messages) {
    let hit = ev.test(root, m, undefined);
    if (hit === undefined) hit = ev.test(root, m, new MessageContent(await ctx.loadRaw(m)));
    if (hit) out.push(m);
  }
  return out;
}

/** 0: metadata only; 1: header section; 2: body. */
function cost(key: SearchKey): number {
  switch (key.type) {
    case 'header':
    case 'sentdate':
      return 1;
    case 'body':
    case 'text':
      return 2;
    case 'and':
      return Math.max(0, ...key.keys.map(cost));
    case 'or':
      return Math.max(cost(key.left), cost(key.right));
    case 'not':
      return cost(key.key);
    default:
      return 0;
  }
}

/** The same tree with AND members and OR sides in ascending cost. */
function order(key: SearchKey): SearchKey {
  switch (key.type) {
    case 'and': {
      const keys = key.keys.map(order);
      return { type: 'and', keys: keys.sort((a, b) => cost(a) - cost(b)) };
    }
    case 'or': {
      const left = order(key.left);
      const right = order(key.right);
      return cost(left) <= cost(right) ? { type: 'or', left, right } : { type: 'or', left: right, right: left };
    }
    case 'not':
      return { type: 'not', key: order(key.key) };
    default:
      return key;
  }
}

function compareDay(op: DateOp, day: number, wanted: number): boolean {
  return op === 'before' ? day < wanted : op === 'on' ? day === wanted : day >= wanted;
}

class Evaluator {
  constructor(private readonly ctx: SearchContext) {}

  /** true/false, or undefined when the answer needs content that was not given. */
  test(key: SearchKey, m: SearchMessage, c: MessageContent | undefined): Tri {
    switch (key.type) {
      case 'all':
        return true;
      case 'flag':
        return this.hasFlag(m, key.flag);
      case 'recent':
        return m.recent;
      case 'seq':
        return inSequenceSet(key.set, m.seq, this.ctx.messageCount);
      case 'uid':
        return inSequenceSet(key.set, m.uid, this.ctx.maxUid);
      case 'size':
        return key.op === 'larger' ? m.size > key.size : m.size < key.size;
      case 'modseq':
        return BigInt(m.modseq) >= key.modseq;
      case 'internaldate':
        return compareDay(key.op, dayOf(m.internalDate, this.ctx.timezoneOffsetMinutes), key.day);
      case 'sentdate': {
        if (!c) return undefined;
        const day = c.sentDay() ?? dayOf(m.internalDate, this.ctx.timezoneOffsetMinutes);
        return compareDay(key.op, day, key.day);
      }
      case 'header': {
        if (!c) return undefined;
        const needle = key.value.toLowerCase();
        return c.header(key.name).some((v) => v.includes(needle));
      }
      case 'body':
        return c ? c.body().includes(key.value.toLowerCase()) : undefined;
      case 'text': {
        if (!c) return undefined;
        const needle = key.value.toLowerCase();
        return c.headers().includes(needle) || c.body().includes(needle);
      }
      case 'not': {
        const r = this.test(key.key, m, c);
        return r === undefined ? undefined : !r;
      }
      case 'and': {
        let result: Tri = true;
        for (const k of key.keys) {
          const r = this.test(k, m, c);
          if (r === false) return false;
          if (r === undefined) result = undefined;
        }
        return result;
      }
      case 'or': {
        const l = this.test(key.left, m, c);
        if (l === true) return true;
        const r = this.test(key.right, m, c);
        if (r === true) return true;
        return l === false && r === false ? false : undefined;
      }
    }
  }

  private hasFlag(m: SearchMessage, flag: string): boolean {
    if (m.flags.has(flag)) return true;
    const lower = flag.toLowerCase();
    for (const f of m.flags) if (f.toLowerCase() === lower) return true;
    return false;
  }
}
