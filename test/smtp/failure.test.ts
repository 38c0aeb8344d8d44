import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ehlo, message } from '../helpers/smtp.ts';
import { unavailable } from '../helpers/tools.ts';
import { mailServer } from './setup.ts';

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name !== 'maildirfolder') out.push(join(d, e.name));
    }
  };
  walk(dir);
  return out;
}

test('a failing index commit answers 451 4.3.0 and leaves no file, no row, no quota change', async (t) => {
  const { app, ports, inbox, config, spoolSettled } = await mailServer(t);
  const c = await ehlo(ports.relay);
  t.after(() => c.close());
  assert.equal((await c.send('a@remote.example', ['bob@example.com'], message('first'))).data?.code, 250);
  await spoolSettled();
  const before = { files: filesUnder(config.storage.mail_dir).sort(), used: inbox('bob@example.com').user.used_bytes };
  app.db.$client.exec(
    "CREATE TRIGGER fail_insert BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'simulated failure'); END",
  );
  const r = await c.send(
    'a@remote.example',
    ['bob@example.com', 'carol@example.com', 'sales@example.com'],
    message('second'),
  );
  assert.equal(r.data?.code, 451);
  assert.match(r.data!.text, /^4\.3\.0 /);
  assert.deepEqual(
    filesUnder(config.storage.mail_dir).sort(),
    before.files,
    'no orphan files (mailboxes, spool, queue)',
  );
  assert.equal(inbox('bob@example.com').rows.length, 1);
  assert.equal(inbox('carol@example.com').rows.length, 0);
  assert.equal(inbox('bob@example.com').user.used_bytes, before.used);
  assert.equal(app.repos.queue.count(), 0, 'the forwarded copy was not queued either');
  app.db.$client.exec('DROP TRIGGER fail_insert');
  assert.equal(
    (await c.send('a@remote.example', ['bob@example.com'], message('third'))).data?.code,
    250,
    'the session recovers',
  );
});

test('a full disk answers 451 4.3.0 and leaves nothing half-delivered (real ENOSPC on a small tmpfs)', async (t) => {
  const mount = mkdtempSync(join(tmpdir(), 'mailyard-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mount]);
  } catch (e) {
    rmSync(mount, { recursive: true, force: true });
    // As root (CI) a failing mount is a broken environment: fail under CI. As another user it cannot work.
    unavailable(t, `cannot mount a tmpfs here: ${(e as Error).message.split('\n')[0]}`, process.getuid?.() === 0);
    return;
  }
  // after-hooks run in registration order: unmount before removing the mount point
  t.after(() => {
    execFileSync('umount', ['-l', mount]);
    rmSync(mount, { recursive: true, force: true });
  });
  const { ports, inbox, spoolSettled } = await mailServer(t, { storage: { mail_dir: mount } });
  const c = await ehlo(ports.relay);
  t.after(() => c.close());
  assert.equal((await c.send('a@remote.example', ['bob@example.com'], message('small'))).data?.code, 250);
  await spoolSettled();
  const filesBefore = filesUnder(mount).sort();
  const r = await c.send(
    'a@remote.example',
    ['bob@example.com'],
    message('too big for the disk', `${'z'.repeat(400 * 1024)}\r\n`),
  );
  assert.equal(r.data?.code, 451);
  assert.match(r.data!.text, /^4\.3\.0 /);
  assert.deepEqual(filesUnder(mount).sort(), filesBefore);
  assert.equal(inbox('bob@example.com').rows.length, 1);
  assert.equal((await c.send('a@remote.example', ['bob@example.com'], message('fits again'))).data?.code, 250);
});
