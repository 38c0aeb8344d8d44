/**
 * Line ends of stored messages. Rules: Mailyard stores what it received (CRLF); Dovecot (mail_save_crlf = no)
 * and most MDAs store bare LFs; IMAP always serves CRLF and reports sizes of the CRLF form.
 */

/** How many LFs of `b` have no CR before them. */
export function bareLineFeeds(b: Buffer): number {
  let bare = 0;
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) if (i === 0 || b[i - 1] !== 13) bare++;
  return bare;
}

/** `b` with every bare LF turned into CRLF (`b` itself when it has none). */
export function toCrlf(b: Buffer): Buffer {
  const bare = bareLineFeeds(b);
  if (!bare) return b;
  const out = Buffer.allocUnsafe(b.length + bare);
  let o = 0;
  let from = 0;
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) {
    if (i > 0 && b[i - 1] === 13) continue;
    o += b.copy(out, o, from, i);
    out[o++] = 13;
    out[o++] = 10;
    from = i + 1;
  }
  b.copy(out, o, from);
  return out;
}
