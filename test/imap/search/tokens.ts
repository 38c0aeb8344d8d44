/**
 * Test helper: turns a criteria string into the Token shapes of src/imap/protocol/types.ts (atoms, "quoted"
 * strings with \" and \\ escapes, {n}CRLF literals, parenthesized lists). Not the real command parser.
 */
import type { Token } from '../../../src/imap/protocol/types.ts';

export function tokens(input: string): Token[] {
  const buf = Buffer.from(input, 'utf8');
  let i = 0;
  const stack: Token[][] = [[]];
  const push = (t: Token) => stack[stack.length - 1]!.push(t);
  while (i < buf.length) {
    const c = String.fromCharCode(buf[i]!);
    if (c === ' ') i++;
    else if (c === '(') {
      stack.push([]);
      i++;
    } else if (c === ')') {
      const items = stack.pop();
      if (!items || stack.length === 0) throw new Error('unbalanced )');
      push({ type: 'list', items });
      i++;
    } else if (c === '"') {
      const bytes: number[] = [];
      i++;
      while (i < buf.length && buf[i] !== 0x22) {
        if (buf[i] === 0x5c) i++;
        bytes.push(buf[i++]!);
      }
      if (i >= buf.length) throw new Error('unterminated string');
      i++;
      push({ type: 'string', value: Buffer.from(bytes), literal: false });
    } else if (c === '{') {
      const m = /^\{(\d+)\}\r\n/.exec(buf.subarray(i, i + 24).toString('latin1'));
      if (!m) throw new Error('bad literal');
      i += m[0].length;
      push({ type: 'string', value: Buffer.from(buf.subarray(i, i + Number(m[1]))), literal: true });
      i += Number(m[1]);
    } else {
      let j = i;
      while (j < buf.length && !' ()"'.includes(String.fromCharCode(buf[j]!))) j++;
      push({ type: 'atom', value: buf.subarray(i, j).toString('utf8') });
      i = j;
    }
  }
  if (stack.length !== 1) throw new Error('unbalanced (');
  return stack[0]!;
}
