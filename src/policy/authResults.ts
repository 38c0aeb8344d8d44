/**
 * The Authentication-Results header field (RFC 8601): the one we add, and the forged ones we remove.
 * Rules: ours names config server.hostname as the authserv-id and lists one resinfo per method evaluated (spf,
 * dkim per signature, arc, dmarc), or "none" when nothing was evaluated (2.2); lines are folded with CRLF + space
 * and carry no final CRLF. An incoming Authentication-Results whose authserv-id is ours, compared
 * case-insensitively and ignoring a final dot, claims results we did not produce and is removed before delivery
 * (section 5); ones naming other hosts are kept, and so are ARC-Authentication-Results (part of the ARC chain,
 * whose seals would break). The header section is handled as bytes (latin1 in, latin1 out) so nothing else in
 * it changes; a folded field is removed with all its continuation lines.
 */
import libmime from 'libmime';

const FIELD = 'Authentication-Results';

/** The full header line (without the final CRLF) for `hostname` and the method resinfos, in order. */
export function formatAuthResults(hostname: string, resinfos: string[]): string {
  const rows = resinfos.length ? resinfos.map((r) => libmime.foldLines(r, 160).replace(/\r?\n\s*$/, '')) : ['none'];
  return `${FIELD}: ${hostname};\r\n ${rows.join(';\r\n ')}`;
}

/** Skips whitespace and RFC 5322 comments (nested, with quoted pairs) from `i`. */
function skipCfws(s: string, i: number): number {
  for (;;) {
    while (i < s.length && /[ \t\r\n]/.test(s[i]!)) i++;
    if (s[i] !== '(') return i;
    let depth = 0;
    for (; i < s.length; i++) {
      const c = s[i];
      if (c === '\\') i++;
      else if (c === '(') depth++;
      else if (c === ')' && --depth === 0) {
        i++;
        break;
      }
    }
  }
}

/** The authserv-id of an Authentication-Results value (a token or a quoted string), or null if none. */
export function authservIdOf(value: string): string | null {
  let i = skipCfws(value, 0);
  if (value[i] === '"') {
    let out = '';
    for (i++; i < value.length && value[i] !== '"'; i++) out += value[i] === '\\' ? value[++i] : value[i];
    return out;
  }
  const m = /^[^\s;()"]+/.exec(value.slice(i));
  return m ? m[0] : null;
}

const norm = (name: string) => name.trim().replace(/\.$/, '').toLowerCase();

/** True when an incoming Authentication-Results value claims to come from us (RFC 8601 5). */
export function isForgedAuthResults(headerValue: string, hostname: string): boolean {
  const id = authservIdOf(headerValue);
  return id !== null && norm(id) === norm(hostname);
}

/**
 * `header` (a message's header section, as read from the spool) without the Authentication-Results fields that
 * name `hostname`. A Buffer comes back as a Buffer, a string as a string; nothing else changes.
 */
export function stripForgedAuthResults<T extends string | Buffer>(header: T, hostname: string): T {
  // (A whole message may be given too: everything after the empty line is left as it is.)
  const text = typeof header === 'string' ? header : header.toString('latin1');
  // Fields: a line, then its continuation lines (starting with space or tab), each with its line ending.
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const kept: string[] = [];
  let dropping = false;
  let removed = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '\r\n' || line === '\n') {
      kept.push(...lines.slice(i));
      break;
    }
    if (line[0] === ' ' || line[0] === '\t') {
      if (!dropping) kept.push(line);
      continue;
    }
    dropping = false;
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === 'authentication-results') {
      // The whole value, continuation lines included, decides.
      let value = line.slice(colon + 1);
      for (let j = i + 1; j < lines.length && /^[ \t]/.test(lines[j]!); j++) value += lines[j];
      if (isForgedAuthResults(value, hostname)) {
        dropping = true;
        removed++;
        continue;
      }
    }
    kept.push(line);
  }
  if (!removed) return header;
  const out = kept.join('');
  return (typeof header === 'string' ? out : Buffer.from(out, 'latin1')) as T;
}
