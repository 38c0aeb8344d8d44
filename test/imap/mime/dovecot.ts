/**
 * A private Dovecot 2.3 (dovecot-imapd) for differential tests: an empty Maildir user on a free loopback port,
 * started in the background (`dovecot -c CONF`) and stopped by the PID in its master.pid. Messages are added
 * with APPEND so their order (and sequence numbers) is the caller's.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { writeDovecotConf } from '../../helpers/dovecot.ts';
import { freePort } from '../../helpers/ports.ts';
import { MAIL_UID, which } from '../../helpers/tools.ts';
import { waitUntil } from '../../helpers/wait.ts';

export { dovecotMissing } from '../../helpers/dovecot.ts';

import { RawImap } from '../../helpers/imap.ts';
import { command } from './imapWire.ts';

/** Starts Dovecot, appends the messages to INBOX, selects it and returns a logged-in client. */
export async function dovecotWith(t: TestContext, messages: Buffer[]): Promise<RawImap> {
  const dir = mkdtempSync(join(tmpdir(), 'mailyard-dovecot-'));
  const pidFile = join(dir, 'run', 'master.pid');
  t.after(() => {
    // The master writes its PID file shortly after daemonising; by the time a test ends it is there.
    if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });
  chmodSync(dir, 0o711);
  const home = join(dir, 'home');
  mkdirSync(home);
  chownSync(home, MAIL_UID, MAIL_UID);
  const port = await freePort();
  const conf = writeDovecotConf(dir, { port, mailLocation: 'maildir:~/Maildir', login: 'bob', home });
  execFileSync(which('dovecot')!, ['-c', conf], { stdio: 'ignore' });
  // The daemon forks and then starts listening: connect as soon as it accepts (deadline; the log on failure).
  let error = '';
  const c = await waitUntil(
    () =>
      RawImap.connect(port).catch((e: Error) => {
        error = e.message;
        return null;
      }),
    'Dovecot to accept connections',
    {
      intervalMs: 50,
      detail: () =>
        `${error}\n${existsSync(join(dir, 'dovecot.log')) ? readFileSync(join(dir, 'dovecot.log'), 'utf8') : ''}`,
    },
  );
  t.after(() => c.close());
  await command(c, 'LOGIN bob secret');
  for (const m of messages) await command(c, 'APPEND INBOX ', m);
  await command(c, 'SELECT INBOX');
  return c;
}
