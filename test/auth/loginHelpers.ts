// Real-client login probes for the account-security tests: imapflow, Python imaplib, nodemailer (587, STARTTLS)
// and raw IMAP, each answering what the client saw; plus REST calls with the admin token.
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { TOKEN } from '../helpers/graphql.ts';
import { RawImap } from '../helpers/imap.ts';
import { python } from '../imap/clients.ts';

/** imapflow LOGIN: 'OK', or the server's text of the failure. */
export async function imapflowLogin(port: number, user: string, pass: string): Promise<string> {
  const c = new ImapFlow({
    host: '127.0.0.1',
    port,
    secure: false,
    auth: { user, pass },
    logger: false,
    tls: { rejectUnauthorized: false },
  });
  c.on('error', () => {});
  try {
    await c.connect();
    await c.logout();
    return 'OK';
  } catch (e) {
    const err = e as { responseText?: string; response?: string; message: string };
    return `NO ${err.responseText ?? err.response ?? err.message}`;
  } finally {
    c.close();
  }
}

const IMAPLIB = `
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
try:
    print(m.login(sys.argv[2], sys.argv[3])[0])
    m.logout()
except imaplib.IMAP4.error as e:
    print('NO ' + str(e))
`;

/** Python imaplib LOGIN: 'OK', or 'NO <the server text>'. */
export async function imaplibLogin(port: number, user: string, pass: string): Promise<string> {
  const r = await python(IMAPLIB, [port, user, pass]);
  if (r.code !== 0) throw new Error(`python exited ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A raw IMAP LOGIN: the tagged reply line without its tag. */
export async function rawImapLogin(port: number, user: string, pass: string): Promise<string> {
  const c = await RawImap.connect(port);
  try {
    const r = await c.cmd(`LOGIN "${user}" "${pass}"`);
    return r.tagged.replace(/^\S+ /, '');
  } finally {
    c.close();
  }
}

/** nodemailer on 587 (STARTTLS required, AUTH PLAIN): 'OK' or the server's reply line. */
export async function smtpLogin(port: number, user: string, pass: string): Promise<string> {
  const tr = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    requireTLS: true,
    tls: { rejectUnauthorized: false },
    auth: { user, pass, method: 'PLAIN' },
  });
  try {
    await tr.verify();
    return 'OK';
  } catch (e) {
    return (e as { response?: string; message: string }).response ?? (e as Error).message;
  } finally {
    tr.close();
  }
}

export async function rest(api: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}
