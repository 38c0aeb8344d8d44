/**
 * Sequence sets (RFC 3501 9 "sequence-set", RFC 5182 "$" is not supported). Rules: `*` is the largest number in
 * use (the last sequence number or the highest UID); a range may be written backwards (`5:2`); for UID sets a
 * range naming UIDs that do not exist simply matches none of them, for message sequence sets a number greater
 * than the message count is an error (the caller decides via `maxAllowed`).
 */
import { ImapBad } from './types.ts';

export type SeqRange = [from: number, to: number | '*'];

const NUM = /^[1-9][0-9]{0,9}$/;

/** Parses "1:3,5,7:*" into ranges; throws ImapBad for anything else. */
export function parseSequenceSet(text: string): SeqRange[] {
  if (!text || text.length > 100_000) throw new ImapBad('Invalid sequence set');
  const out: SeqRange[] = [];
  for (const part of text.split(',')) {
    const [a, b, extra] = part.split(':');
    if (extra !== undefined || a === undefined) throw new ImapBad(`Invalid sequence set: ${text.slice(0, 64)}`);
    const from = parseNum(a, text);
    if (b === undefined) out.push([from === '*' ? Number.POSITIVE_INFINITY : from, from]);
    else {
      const to = parseNum(b, text);
      out.push([from === '*' ? Number.POSITIVE_INFINITY : from, to]);
    }
  }
  return out;
}

function parseNum(s: string, whole: string): number | '*' {
  if (s === '*') return '*';
  if (!NUM.test(s) || Number(s) > 0xffffffff) throw new ImapBad(`Invalid sequence set: ${whole.slice(0, 64)}`);
  return Number(s);
}

/** Does `n` fall in the set, with `star` standing for `*`. */
export function inSequenceSet(ranges: SeqRange[], n: number, star: number): boolean {
  for (const [a, b] of ranges) {
    const lo0 = a === Number.POSITIVE_INFINITY ? star : a;
    const hi0 = b === '*' ? star : b;
    const lo = Math.min(lo0, hi0);
    const hi = Math.max(lo0, hi0);
    if (n >= lo && n <= hi) return true;
  }
  return false;
}

/**
 * Every number of the set that is present in `sorted` (ascending, e.g. a mailbox's UIDs or 1..count), ascending
 * and without duplicates.
 */
export function resolveSequenceSet(ranges: SeqRange[], sorted: readonly number[]): number[] {
  if (sorted.length === 0) return [];
  const star = sorted[sorted.length - 1]!;
  const picked = new Set<number>();
  for (const [a, b] of ranges) {
    const lo0 = a === Number.POSITIVE_INFINITY ? star : a;
    const hi0 = b === '*' ? star : b;
    const lo = Math.min(lo0, hi0);
    const hi = Math.max(lo0, hi0);
    let i = lowerBound(sorted, lo);
    for (; i < sorted.length && sorted[i]! <= hi; i++) picked.add(sorted[i]!);
  }
  return [...picked].sort((x, y) => x - y);
}

export function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Compresses ascending numbers into a sequence set string ("1:3,5"), as used in COPYUID and ESEARCH. */
export function toSequenceSet(numbers: readonly number[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < numbers.length) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    parts.push(i === j ? `${numbers[i]}` : `${numbers[i]}:${numbers[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
