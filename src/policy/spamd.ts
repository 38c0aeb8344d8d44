/**
 * The SpamAssassin daemon client: sends a spooled message file to spamd with SYMBOLS (protocol SPAMC/1.5) and
 * reports the score, the threshold, spamd's judgement and the rules that hit; the pipeline decides what they mean.
 * Rules:
 *  - Content-length is the file's size, taken with stat before sending, and exactly that many bytes are streamed
 *    from the file (never the whole message in memory). spamd has no size limit of its own (spamc skips messages
 *    over 500 KB by default): callers decide what size to send here.
 *  - At most `maxConnections` checks talk to spamd at once (keep it near spamd's --max-children; more only queue
 *    inside spamd); the others wait in arrival order. The timeout covers the whole call, the wait included;
 *    expiry gives {status: 'error', error: 'timeout'}. A fresh connection per check: spamd closes every connection
 *    after one reply.
 *  - The reply is checked strictly: status line `SPAMD/<version> 0 EX_OK`, a `Spam: <True|False> ; <score> /
 *    <threshold>` header, a body of comma-separated rule names (letters, digits, '_'); anything else, a non-zero
 *    status included, is {status: 'error'} with a message saying what was wrong. Rule names go into header lines,
 *    so nothing else may pass.
 *  - Never throws.
 */
import { stat } from 'node:fs/promises';
import { exchange, fileChunks, withDeadline } from './exchange.ts';
import { createSlots } from './slots.ts';

export type SpamdResult =
  | { status: 'ok'; score: number; threshold: number; isSpam: boolean; symbols: string[] }
  | { status: 'error'; error: string };

export interface SpamdOptions {
  host: string;
  port: number;
  /** The whole call, queueing included (milliseconds). */
  timeoutMs: number;
  /** Checks talking to spamd at once. */
  maxConnections: number;
}

export interface Spamd {
  /** Checks the message in the file at `path`; `user` selects spamd's per-user settings (the User header). */
  checkFile(path: string, opts?: { user?: string }): Promise<SpamdResult>;
}

const NUMBER = String.raw`[-+]?\d+(?:\.\d+)?`;
const STATUS_LINE = /^SPAMD\/(\d+\.\d+) (\d+) (.*)$/;
const SPAM_HEADER = new RegExp(String.raw`^(True|False|Yes|No)\s*;\s*(${NUMBER})\s*\/\s*(${NUMBER})$`, 'i');
const SYMBOL = /^[A-Za-z0-9_]+$/;
/** A User header value: printable ASCII without spaces (spamd takes a user name). */
const USER = /^[\x21-\x7e]{1,128}$/;

/** Parses spamd's answer to SYMBOLS. */
export function parseSymbolsReply(reply: Buffer): SpamdResult {
  const bad = (why: string): SpamdResult => ({ status: 'error', error: `spamd reply: ${why}` });
  const text = reply.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  const head = (headEnd < 0 ? text : text.slice(0, headEnd)).split('\r\n');
  const status = STATUS_LINE.exec(head[0] ?? '');
  if (!status) return bad(`not a SPAMD status line: ${JSON.stringify((head[0] ?? '').slice(0, 100))}`);
  if (status[2] !== '0') return { status: 'error', error: `spamd refused: ${status[2]} ${status[3]}` };
  if (headEnd < 0) return bad('no blank line after the headers');
  const headers = new Map<string, string>();
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) return bad(`malformed header line ${JSON.stringify(line.slice(0, 100))}`);
    headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  const spam = headers.get('spam');
  if (spam === undefined) return bad('no Spam header');
  const m = SPAM_HEADER.exec(spam);
  if (!m) return bad(`malformed Spam header ${JSON.stringify(spam.slice(0, 100))}`);
  const body = text.slice(headEnd + 4);
  const length = headers.get('content-length');
  if (length !== undefined && Number(length) !== Buffer.byteLength(body, 'latin1'))
    return bad(`Content-length ${length} but ${Buffer.byteLength(body, 'latin1')} body bytes`);
  const symbols = body
    .trim()
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const odd = symbols.find((s) => !SYMBOL.test(s));
  if (odd !== undefined) return bad(`unexpected rule name ${JSON.stringify(odd.slice(0, 100))}`);
  return {
    status: 'ok',
    score: Number(m[2]),
    threshold: Number(m[3]),
    isSpam: /^(true|yes)$/i.test(m[1]!),
    symbols,
  };
}

export function createSpamd(opts: SpamdOptions): Spamd {
  const address = { host: opts.host, port: opts.port };
  const slots = createSlots(opts.maxConnections);
  return {
    async checkFile(path, o = {}) {
      if (o.user !== undefined && !USER.test(o.user))
        return { status: 'error', error: `not a usable spamd user name: ${JSON.stringify(o.user)}` };
      const out = await withDeadline(opts.timeoutMs, async (deadline) => {
        let size: number;
        try {
          size = (await stat(path)).size;
        } catch (e) {
          return { ok: false, error: `cannot read the message: ${(e as Error).message}` };
        }
        const head = `SYMBOLS SPAMC/1.5\r\nContent-length: ${size}\r\n${o.user ? `User: ${o.user}\r\n` : ''}\r\n`;
        return exchange(
          {
            address,
            async write(send, signal) {
              if (!(await send(head))) return;
              for await (const chunk of fileChunks(path, size, signal)) if (!(await send(chunk))) return;
            },
          },
          slots,
          deadline,
        );
      });
      return out.ok ? parseSymbolsReply(out.reply) : { status: 'error', error: out.error };
    },
  };
}
