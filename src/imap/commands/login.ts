/**
 * LOGIN (RFC 3501 6.2.3) and the login step shared with AUTHENTICATE. Rules: refused with LOGINDISABLED-style
 * PRIVACYREQUIRED when plaintext is not allowed on this connection; a failed attempt waits before answering

 * (slowing guessing; login.ts's failureDelayMs, the same as SMTP AUTH) and the third failure in a session ends it; the per-user session limit is checked after a
 * successful password check (NO [LIMIT]); a failure is
 * NO [AUTHENTICATIONFAILED] with login.ts's client text when it has one (an app password is required), else
 * `Authentication failed` (also for a blocked client); success answers with the post-login CAPABILITY code.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { checkLogin, failureDelayMs } from '../../auth/login.ts';
import { LOG_EVENTS } from '../../log/logger.ts';
import { ImapNo } from '../protocol/types.ts';
import type { CommandSession, Done } from '../state.ts';
import { need, noMore, text } from './args.ts';
import { notAuthenticated } from './types.ts';

const MAX_FAILURES = 3;

export async function completeLogin(s: CommandSession, username: string, password: string): Promise<Done> {
  const r = await checkLogin(s.deps.logins, username, password, {
    protocol: 'imap',
    ip: s.socket.remoteAddress ?? '',
  });
  if ('error' in r) {
    s.authFailures++;
    s.log.info({ username, reason: r.error, failures: s.authFailures }, LOG_EVENTS.authFailed);
    await sleep(failureDelayMs(s.authFailures));
    // The tagged NO is written first (by the session), then BYE, then the connection closes.
    if (s.authFailures >= MAX_FAILURES) s.byeAfterReply = 'Too many failed authentication attempts';
    throw new ImapNo(r.reply ?? 'Authentication failed', 'AUTHENTICATIONFAILED');
  }
  // The client may have gone while the password was being checked: count nothing for a closed session.
  if (s.isClosed) return {};
  if (!s.deps.hub.enter(r.user.id, s.deps.config.imap.max_sessions_per_user))
    throw new ImapNo('Too many simultaneous sessions for this user', 'LIMIT');
  s.state = { kind: 'authenticated', user: r.user };
  s.log.info({ user: r.user.email }, 'imap login');
  return { code: `CAPABILITY ${s.capabilities().join(' ')}`, text: 'Logged in' };
}

export const login = notAuthenticated({
  name: 'LOGIN',
  parse(args) {
    const user = text(need(args, 0, 'user name'), 'a user name');
    const pass = text(need(args, 1, 'password'), 'a password');
    noMore(args, 2, 'LOGIN');
    return { user, pass };
  },
  async run(s, { user, pass }) {
    if (!s.plaintextAllowed()) throw new ImapNo('Use STARTTLS before LOGIN', 'PRIVACYREQUIRED');
    return completeLogin(s, user, pass);
  },
});
