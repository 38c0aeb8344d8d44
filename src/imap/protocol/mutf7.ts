/**
 * Modified UTF-7 mailbox names (RFC 3501 5.1.3), as IMAP4rev1 clients without UTF8=ACCEPT send them. Rules: a
 * valid name is printable US-ASCII in which '&' starts a shift: "&-" is '&' itself, "&<modified BASE64>-" is
 * UTF-16 text (BASE64 with ',' for '/', no padding) that holds no printable US-ASCII (which must represent itself),
 * no lone surrogates, and no bits left over beyond the last whole 16-bit unit (they must be zero, fewer than 6);
 * anything else (8-bit bytes, control characters, an unterminated or malformed shift) is invalid.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';
const VALUE = new Map([...ALPHABET].map((c, i) => [c, i]));

/** The UTF-16 code units of a modified BASE64 run, or null when it is malformed. */
function units(run: string): number[] | null {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const c of run) {
    const v = VALUE.get(c);
    if (v === undefined) return null;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 16) {
      bits -= 16;
      out.push((acc >> bits) & 0xffff);
    }
  }
  // Left over: fewer than 6 bits, all zero.
  if (bits >= 6 || (acc & ((1 << bits) - 1)) !== 0) return null;
  return out;
}

export function isModifiedUtf7(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
    if (c !== 0x26) continue; // '&'
    const end = name.indexOf('-', i + 1);
    if (end < 0) return false;
    const run = name.slice(i + 1, end);
    i = end;
    if (run === '') continue; // "&-"
    const u = units(run);
    if (!u?.length) return false;
    for (let k = 0; k < u.length; k++) {
      const x = u[k]!;
      if (x >= 0x20 && x <= 0x7e) return false;
      if (x >= 0xd800 && x <= 0xdbff) {
        const next = u[k + 1];
        if (next === undefined || next < 0xdc00 || next > 0xdfff) return false;
        k++;
      } else if (x >= 0xdc00 && x <= 0xdfff) return false;
    }
  }
  return true;
}
