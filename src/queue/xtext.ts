/**
 * xtext (RFC 3461 section 4): the encoding of the DSN parameters ENVID and ORCPT's address. Rules: the characters
 * "!" to "~" except "+" and "=" stay as they are; every other byte (of the UTF-8 form) becomes "+" and two upper-case
 * hex digits.
 */

export function xtext(value: string): string {
  if (/^[!-*,-<>-~]*$/.test(value)) return value;
  let out = '';
  for (const b of Buffer.from(value, 'utf8')) {
    out +=
      b >= 0x21 && b <= 0x7e && b !== 0x2b && b !== 0x3d
        ? String.fromCharCode(b)
        : `+${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** ORCPT's value: "rfc822;a@b" (as received, decoded) becomes "rfc822;" + xtext("a@b"); no ";" means rfc822. */
export function orcptParam(orcpt: string): string {
  const i = orcpt.indexOf(';');
  return i < 0 ? `rfc822;${xtext(orcpt)}` : `${orcpt.slice(0, i)};${xtext(orcpt.slice(i + 1))}`;
}
