/**
 * Test-only IMAP wire helpers for the differential tests: commands over the raw client of test/helpers/imap.ts
 * with their responses parsed into a normalised JS tree, and the same normalisation of
 * Mailyard's ImapValue. Normal form: NIL -> null, numbers -> number, atoms -> { atom: UPPER-CASED },
 * quoted strings and literals -> Buffer (so "quoted vs literal" never matters), lists -> arrays.
 */
import { Adjacent, Atom, type ImapValue } from '../../../src/imap/protocol/types.ts';
import type { RawImap } from '../../helpers/imap.ts';

export type Wire = null | number | { atom: string } | Buffer | Wire[];

/** Mailyard's value in normal form. */
export function normalise(v: ImapValue): Wire {
  if (v === null) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Atom) return { atom: v.value.toUpperCase() };
  if (v instanceof Adjacent) throw new Error('Adjacent values only occur inside lists');
  return v.flatMap((x) => (x instanceof Adjacent ? x.items.map(normalise) : [normalise(x)]));
}

/** The value with Adjacent runs spliced into their lists (what a client's parser sees), JS values kept. */
export function flat(v: ImapValue): unknown {
  if (!Array.isArray(v)) return v;
  return v.flatMap((x) => (x instanceof Adjacent ? x.items.map(flat) : [flat(x)]));
}

/** A readable rendering of a normal-form value (for assertion messages and reports). */
export function show(w: Wire): string {
  if (w === null) return 'NIL';
  if (typeof w === 'number') return String(w);
  if (Buffer.isBuffer(w)) return JSON.stringify(w.toString('utf8'));
  if (Array.isArray(w)) return `(${w.map(show).join(' ')})`;
  return w.atom;
}

/** Parses one response line starting at `pos` (up to its final CRLF, literals included). */
export function parseLine(buf: Buffer, pos: number): { items: Wire[]; next: number } | null {
  const stack: Wire[][] = [[]];
  const top = () => stack[stack.length - 1]!;
  let i = pos;
  while (i < buf.length) {
    const c = buf[i]!;
    if (c === 0x0d && buf[i + 1] === 0x0a && stack.length === 1) return { items: stack[0]!, next: i + 2 };
    if (c === 0x20) i++;
    else if (c === 0x28) {
      const list: Wire[] = [];
      top().push(list);
      stack.push(list);
      i++;
    } else if (c === 0x29) {
      stack.pop();
      i++;
    } else if (c === 0x22) {
      const bytes: number[] = [];
      i++;
      while (i < buf.length && buf[i] !== 0x22) {
        if (buf[i] === 0x5c) i++;
        bytes.push(buf[i]!);
        i++;
      }
      if (i >= buf.length) return null;
      i++;
      top().push(Buffer.from(bytes));
    } else if (c === 0x7b) {
      const close = buf.indexOf('}', i);
      if (close < 0 || close + 2 >= buf.length + 1) return null;
      const n = Number(
        buf
          .subarray(i + 1, close)
          .toString('latin1')
          .replace('+', ''),
      );
      const start = close + 3;
      if (start + n > buf.length) return null;
      top().push(Buffer.from(buf.subarray(start, start + n)));
      i = start + n;
    } else {
      let j = i;
      let depth = 0;
      while (j < buf.length) {
        const d = buf[j]!;
        if (d === 0x5b) depth++;
        else if (d === 0x5d) depth--;
        else if (depth === 0 && (d === 0x20 || d === 0x28 || d === 0x29 || d === 0x0d)) break;
        j++;
      }
      if (j >= buf.length) return null;
      const word = buf.subarray(i, j).toString('utf8');
      if (/^[0-9]+$/.test(word)) top().push(Number(word));
      else if (word.toUpperCase() === 'NIL') top().push(null);
      else top().push({ atom: word.toUpperCase() });
      i = j;
    }
  }
  return null;
}

/**
 * Sends `tag parts...` on `c` (Buffers go as LITERAL+ literals) and returns the response lines before the tagged
 * one, parsed; throws unless the command succeeded.
 */
export async function command(c: RawImap, ...parts: (string | Buffer)[]): Promise<Wire[][]> {
  const out = parts.map((p) =>
    typeof p === 'string' ? Buffer.from(p) : Buffer.concat([Buffer.from(`{${p.length}+}\r\n`), p]),
  );
  const r = await c.cmd(Buffer.concat(out));
  const lines = r.lines.map((l) => {
    const parsed = parseLine(Buffer.from(`${l}\r\n`, 'latin1'), 0);
    if (!parsed) throw new Error(`unparsable response line: ${JSON.stringify(l)}`);
    return parsed.items;
  });
  if (!/^\S+ OK\b/i.test(r.tagged))
    throw new Error(`${r.tagged}\n${lines.map((l) => l.map(show).join(' ')).join('\n')}`);
  return lines;
}

/** The FETCH data items of `* n FETCH (...)` lines, keyed by message number then item name (upper-cased). */
export function fetchItems(lines: Wire[][]): Map<number, Map<string, Wire>> {
  const out = new Map<number, Map<string, Wire>>();
  for (const l of lines) {
    const [, seq, word, list] = l;
    if (typeof seq !== 'number' || !word || typeof word !== 'object' || !('atom' in word) || word.atom !== 'FETCH')
      continue;
    if (!Array.isArray(list)) continue;
    const m = out.get(seq) ?? new Map<string, Wire>();
    for (let i = 0; i + 1 < list.length; i += 2) {
      const k = list[i];
      if (k && typeof k === 'object' && 'atom' in k) m.set(k.atom, list[i + 1]!);
    }
    out.set(seq, m);
  }
  return out;
}
