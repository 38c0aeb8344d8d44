// Names the store cannot serve are refused at the door (issue #21): one validation (repos/names.ts) behind REST,
// GraphQL and SMTP RCPT. Regression tests for each reported case, then properties over generated names: whatever is
// accepted can be delivered to and read back over IMAP, whatever is refused gets a 400 naming the field, and
// nothing is ever created outside mail_dir.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { ImapFlow } from 'imapflow';
import { gql, TOKEN } from '../helpers/graphql.ts';
import { TEST_PASSWORD } from '../helpers/password.ts';
import { startTestServer } from '../helpers/server.ts';
import { message, RawSmtp } from '../helpers/smtp.ts';

const rest = (api: string, method: string, path: string, body?: unknown) =>
  fetch(`${api}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: (await r.json().catch(() => null)) as any }));

/** Every path under `dir` (folders and files), relative to it. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      out.push(relative(dir, join(d, e.name)));
      if (e.isDirectory()) walk(join(d, e.name));
    }
  };
  walk(dir);
  return out;
}

const CREATE_USER = `mutation($e: String!) {
  createUser(input: { email: $e, password: "${TEST_PASSWORD}" }) {
    __typename
    ... on User { email }
    ... on ValidationError { fieldErrors { path } }
  }
}`;

async function server(t: { after(fn: () => unknown): void }) {
  const s = await startTestServer(t);
  const created = await rest(s.api, 'POST', '/api/domains', { name: 'example.test', use_default_template: true });
  assert.equal(created.status, 201);
  return s;
}

async function rcpt(port: number, address: string): Promise<string> {
  const c = await RawSmtp.connect(port);
  try {
    await c.reply();
    await c.cmd('EHLO test.example');
    await c.cmd('MAIL FROM:<sender@remote.example>');
    return (await c.cmd(`RCPT TO:<${address}>`)).lines[0]!;
  } finally {
    c.socket.destroy();
  }
}

test('REST and GraphQL refuse local parts with "/" or control characters (400 / ValidationError naming the field)', async (t) => {
  const { api } = await server(t);
  for (const email of ['a/b@example.test', 'a\u0000b@example.test', 'a\u0001b@example.test', 'a\u007fb@example.test']) {
    const r = await rest(api, 'POST', '/api/users', { email, password: TEST_PASSWORD });
    assert.equal(r.status, 400, JSON.stringify(email));
    assert.deepEqual(
      r.body.fields.map((f: { field: string }) => f.field),
      ['email'],
    );
    const g = await gql(api, CREATE_USER, { e: email });
    assert.equal(g.data.createUser.__typename, 'ValidationError', JSON.stringify(g));
    assert.deepEqual(g.data.createUser.fieldErrors[0].path, ['input', 'email']);
  }
  assert.equal((await rest(api, 'GET', '/api/users?domain=example.test')).body.length ?? 0, 0, 'no user created');
});

test('domain names and addresses are refused, never truncated, at URL delimiters', async (t) => {
  const { api } = await server(t);
  for (const name of ['foo.test/bar', 'foo.test?x=1', 'foo.test#frag', 'foo.test\\bar', 'foo.test:25', 'a@foo.test']) {
    const r = await rest(api, 'POST', '/api/domains', { name, use_default_template: true });
    assert.equal(r.status, 400, `${name}: ${JSON.stringify(r.body)}`);
  }
  assert.equal((await rest(api, 'GET', '/api/domains/foo.test')).status, 404, 'foo.test was not created');
  for (const email of ['a@example.test/../..', 'a@example.test?x', 'a@example.test#x']) {
    const r = await rest(api, 'POST', '/api/users', { email, password: TEST_PASSWORD });
    assert.equal(r.status, 400, email);
  }
  assert.equal((await rest(api, 'GET', '/api/users/a@example.test')).status, 404);
  // An IDN is normalised, not refused.
  const idn = await rest(api, 'POST', '/api/domains', { name: 'Bücher.Example', use_default_template: true });
  assert.equal(idn.status, 201);
  assert.equal(idn.body.name, 'xn--bcher-kva.example');
});

test('RCPT of a local part no mailbox can have is 550 5.1.1, even with a catch-all (never a 451 after DATA)', async (t) => {
  const { api, ports } = await server(t);
  assert.equal(
    (await rest(api, 'POST', '/api/users', { email: 'bob@example.test', password: TEST_PASSWORD })).status,
    201,
  );
  assert.equal(
    (await rest(api, 'PUT', '/api/domains/example.test', { catchall_email: 'bob@example.test' })).status,
    200,
  );
  assert.match(await rcpt(ports.relay, 'whoever@example.test'), /^250 /, 'the catch-all takes unknown names');
  assert.match(await rcpt(ports.relay, 'a/b@example.test'), /^550 5\.1\.1 /);
  assert.match(await rcpt(ports.relay, '"a\u0001b"@example.test'), /^5\d\d /);
});

test('POST /graphql without a token is 401 before the body is parsed', async (t) => {
  const { api } = await startTestServer(t);
  for (const body of ['{}', 'not json', '{"query":"{ domains { totalCount } }"}']) {
    const r = await fetch(`${api}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(r.status, 401, body);
    assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
    const j = (await r.json()) as { errors: { extensions: { code: string } }[] };
    assert.equal(j.errors[0]!.extensions.code, 'UNAUTHENTICATED');
  }
});

// Local parts built from characters that must be accepted (letters of several scripts, digits, dots, +, -, _),
// drawn four times as often, and characters that must be refused ('/', NUL and other controls, spaces, specials,
// backslash, the routing characters % and !).
const GOOD = ['a', 'z', 'Q', '0', '9', '.', '+', '-', '_', 'é', 'ß', 'ж', '中', '~'];
const BAD = ['/', '\u0000', '\u0001', '\u007f', ' ', '\t', '"', '\\', ',', ':', '<', '@', '%', '!'];
const localChar = fc.oneof(
  { arbitrary: fc.constantFrom(...GOOD), weight: 4 },
  { arbitrary: fc.constantFrom(...BAD), weight: 1 },
);

test('property: any generated local part, through REST or GraphQL, is either refused (400 / ValidationError naming the field) or accepted, delivered over SMTP and read back over IMAP; nothing appears outside mail_dir', async (t) => {
  const s = await server(t);
  const mailDir = s.config.storage.mail_dir;
  const dataDir = s.dir;
  const before = new Set(tree(dataDir).filter((p) => !p.startsWith(relative(dataDir, mailDir))));
  let accepted = 0;
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(localChar, { minLength: 1, maxLength: 8 }), fc.boolean(), async (chars, viaGraphql) => {
      const local = chars.join('');
      const email = `${local}@example.test`;
      let stored: string;
      if (viaGraphql) {
        const g = await gql(s.api, CREATE_USER, { e: email });
        const made = g.data?.createUser;
        if (made?.__typename === 'ConflictError') return; // generated twice (case-insensitive duplicates)
        if (made?.__typename !== 'User') {
          assert.equal(made?.__typename, 'ValidationError', `${JSON.stringify(email)}: ${JSON.stringify(g)}`);
          assert.deepEqual(made.fieldErrors[0].path, ['input', 'email']);
          refused++;
          return;
        }
        stored = made.email;
      } else {
        const r = await rest(s.api, 'POST', '/api/users', { email, password: TEST_PASSWORD });
        if (r.status === 409) return;
        if (r.status !== 201) {
          assert.equal(r.status, 400, `${JSON.stringify(email)}: ${JSON.stringify(r.body)}`);
          assert.equal(r.body.fields[0].field, 'email');
          refused++;
          return;
        }
        stored = r.body.email as string;
      }
      accepted++;
      const c = await RawSmtp.connect(s.ports.relay);
      try {
        await c.reply();
        await c.cmd('EHLO test.example');
        const sent = await c.send('sender@remote.example', [stored], message(`to ${stored}`));
        assert.equal(sent.data?.code, 250, `${JSON.stringify(stored)}: ${JSON.stringify(sent)}`);
      } finally {
        c.socket.destroy();
      }
      const imap = new ImapFlow({
        host: '127.0.0.1',
        port: s.ports.imap,
        secure: false,
        auth: { user: stored, pass: TEST_PASSWORD },
        logger: false,
        tls: { rejectUnauthorized: false },
      });
      await imap.connect();
      try {
        const lock = await imap.getMailboxLock('INBOX');
        try {
          const m = await imap.fetchOne('*', { source: true });
          assert.ok(m && m.source!.toString().includes(`to ${stored}`), JSON.stringify(stored));
        } finally {
          lock.release();
        }
      } finally {
        await imap.logout();
      }
    }),
    { numRuns: 60, seed: 21 },
  );
  assert.ok(accepted > 5 && refused > 5, `both sides exercised (accepted ${accepted}, refused ${refused})`);
  const after = tree(dataDir).filter((p) => !p.startsWith(relative(dataDir, mailDir)) && !before.has(p));
  // The database's journal files come and go; anything else new outside mail_dir is a path escape.
  assert.deepEqual(
    after.filter((p) => !/mailserver\.db(-wal|-shm|-journal)?$/.test(p)),
    [],
  );
});

test('property: generated domain names are refused with 400 or stored in their normal form, never cut short', async (t) => {
  const { api } = await startTestServer(t);
  const chars = ['a', 'b', 'x', '0', '-', '.', 'ü', 'Я', '/', '?', '#', '\\', '@', ':', ' ', '%', '_'];
  await fc.assert(
    fc.asyncProperty(fc.array(fc.constantFrom(...chars), { minLength: 1, maxLength: 14 }), async (cs) => {
      const name = `${cs.join('')}.test`;
      const r = await rest(api, 'POST', '/api/domains', { name, use_default_template: true });
      if (r.status === 409) return;
      if (r.status === 400) return;
      assert.equal(r.status, 201, `${JSON.stringify(name)}: ${JSON.stringify(r.body)}`);
      // Accepted: only letters, digits, hyphens and dots went in, and the stored name is the whole of it in ASCII.
      assert.match(name, /^[\p{L}\p{N}.-]+$/u);
      assert.equal(r.body.name, new URL(`http://${name}`).hostname.replace(/\.$/, ''));
    }),
    { numRuns: 80, seed: 21 },
  );
});

/** A minimal raw IMAP session over a socket: sends tagged commands (literals as given), collects the answers. */
async function imapSession(port: number, user: string) {
  const socket = net.connect(port, '127.0.0.1');
  let buf = '';
  let waiting: (() => void) | null = null;
  socket.on('data', (d) => {
    buf += d.toString('latin1');
    waiting?.();
  });
  const until = async (re: RegExp) => {
    while (!re.test(buf)) await new Promise<void>((r) => (waiting = r));
    waiting = null;
  };
  let n = 0;
  /** Sends `command` (which may contain `{n}\r\n` literals: the continuation is awaited) and returns the answer. */
  const cmd = async (command: string): Promise<string> => {
    const tag = `t${++n}`;
    buf = '';
    const parts = command.split(/(?<=\{\d+\}\r\n)/);
    for (const [i, part] of parts.entries()) {
      socket.write(Buffer.from(i === 0 ? `${tag} ${part}` : part, 'utf8'));
      if (i < parts.length - 1) await until(/^\+ /m);
    }
    socket.write('\r\n');
    await until(new RegExp(`^${tag} (OK|NO|BAD)`, 'm'));
    return buf;
  };
  await until(/^\* OK/m);
  assert.match(await cmd(`LOGIN ${user} ${TEST_PASSWORD}`), /^t1 OK/m);
  return { cmd, close: () => socket.destroy() };
}

/** The server with bob@example.test, logged in over IMAP. */
async function bobOverImap(t: { after(fn: () => unknown): void }) {
  const s = await server(t);
  const made = await rest(s.api, 'POST', '/api/users', { email: 'bob@example.test', password: TEST_PASSWORD });
  assert.equal(made.status, 201);
  const c = await imapSession(s.ports.imap, 'bob@example.test');
  t.after(() => c.close());
  return { s, c };
}

test('IMAP: CREATE refuses control characters (BAD) and invalid modified UTF-7 (NO); RENAME names a missing source first', async (t) => {
  const { c } = await bobOverImap(t);
  for (const name of ['a\u0001b', 'a\tb', 'x\u007f'])
    assert.match(await c.cmd(`CREATE {${name.length}}\r\n${name}`), /^t\d+ BAD /m, JSON.stringify(name));
  for (const name of ['&', '&AGE', '&ZeVnLIqe', '&AGE-', 'caf\u00e9'])
    assert.match(await c.cmd(`CREATE {${Buffer.byteLength(name)}}\r\n${name}`), /^t\d+ NO \[CANNOT\]/m, name);
  for (const name of ['&ZeVnLIqe-', 'Tom &- Jerry', 'Entw&APw-rfe'])
    assert.match(await c.cmd(`CREATE "${name}"`), /^t\d+ OK/m, name);
  const list = await c.cmd('LIST "" "*"');
  for (const name of ['&ZeVnLIqe-', 'Tom &- Jerry', 'Entw&APw-rfe']) assert.ok(list.includes(`"${name}"`), list);
  assert.doesNotMatch(list, /AGE|\u0001|\t/);
  // The source is judged first: a missing one is NONEXISTENT whatever the target (an existing one, an invalid one).
  assert.match(await c.cmd('RENAME nosuch Sent'), /^t\d+ NO \[NONEXISTENT\]/m);
  assert.match(await c.cmd('RENAME nosuch "&"'), /^t\d+ NO \[NONEXISTENT\]/m);
  assert.match(await c.cmd('RENAME Sent "&"'), /^t\d+ NO \[CANNOT\]/m);
  assert.match(await c.cmd('RENAME Sent Drafts'), /^t\d+ NO \[ALREADYEXISTS\]/m);
});

test('property: a generated IMAP mailbox name is refused (BAD/NO) or created, listed, able to store a message that is read back, and its folder lies inside mail_dir', async (t) => {
  const { s, c } = await bobOverImap(t);
  const userDir = join(s.config.storage.mail_dir, 'example.test', 'bob');
  const chars = ['a', 'Z', '0', ' ', '.', '/', '&', '-', 'A', 'G', 'E', ',', '+', '\u0001', '\t', '\u00e9', '\\', '~'];
  let created = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.constantFrom(...chars), { minLength: 1, maxLength: 10 }), async (cs) => {
      const name = cs.join('');
      const answer = await c.cmd(`CREATE {${Buffer.byteLength(name)}}\r\n${name}`);
      if (/^t\d+ (BAD|NO) /m.test(answer)) return;
      assert.match(answer, /^t\d+ OK/m, JSON.stringify(name));
      created++;
      const clean = name.replace(/\/$/, '');
      const listed = await c.cmd(`LIST "" {${Buffer.byteLength(clean)}}\r\n${clean}`);
      assert.match(listed, /^\* LIST /m, `${JSON.stringify(clean)} is listed`);
      // Mail can be stored in it and read back.
      const body = `Subject: into ${clean}\r\n\r\nhello\r\n`;
      const appended = await c.cmd(`APPEND {${Buffer.byteLength(clean)}}\r\n${clean} {${body.length}}\r\n${body}`);
      assert.match(appended, /^t\d+ OK \[APPENDUID /m, JSON.stringify(clean));
      assert.match(await c.cmd(`SELECT {${Buffer.byteLength(clean)}}\r\n${clean}`), /^\* 1 EXISTS/m);
      assert.ok((await c.cmd('FETCH 1 BODY[]')).includes(`into ${clean}`), JSON.stringify(clean));
      await c.cmd('CLOSE');
    }),
    { numRuns: 80, seed: 21 },
  );
  assert.ok(created > 5, `some names were created (${created})`);
  // Every folder is a Maildir++ directory directly inside the user's directory: nothing escaped it.
  const outside = tree(s.config.storage.mail_dir).filter(
    (p) => !p.startsWith(join('example.test', 'bob')) && p !== 'example.test' && !p.startsWith('.'),
  );
  assert.deepEqual(outside, []);
  for (const d of readdirSync(userDir)) assert.ok(!d.includes('/'), d);
});

test('property: a generated RCPT local part (with a catch-all) is refused 5xx at RCPT or delivered: never a temporary failure, never a 451 after DATA', async (t) => {
  const s = await server(t);
  assert.equal(
    (await rest(s.api, 'POST', '/api/users', { email: 'bob@example.test', password: TEST_PASSWORD })).status,
    201,
  );
  assert.equal(
    (await rest(s.api, 'PUT', '/api/domains/example.test', { catchall_email: 'bob@example.test' })).status,
    200,
  );
  const ascii = ['a', 'z', '0', '.', '+', '-', '_', '/', '\u0001', '\u007f', '\\', '%', '!', '~', '=', '#'];
  const inbox = () => {
    const u = s.app.repos.users.get('bob@example.test')!;
    return s.app.repos.messages.uids(s.app.repos.mailboxes.get(u.id, 'INBOX')!.id).length;
  };
  let delivered = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.constantFrom(...ascii), { minLength: 1, maxLength: 8 }), async (cs) => {
      const before = inbox();
      // A session per address: smtp.max_errors refusals would end a shared one.
      const c = await RawSmtp.connect(s.ports.relay);
      try {
        await c.reply();
        await c.cmd('EHLO test.example');
        const r = await c.send('sender@remote.example', [`${cs.join('')}@example.test`], message('catch-all'));
        const code = r.rcpt[0]!.code;
        if (code !== 250) {
          assert.ok(code >= 500 && code < 600, `RCPT ${JSON.stringify(cs.join(''))}: ${r.rcpt[0]!.text}`);
          return;
        }
        assert.equal(r.data?.code, 250, `DATA for ${JSON.stringify(cs.join(''))}: ${r.data?.text}`);
      } finally {
        c.close();
      }
      assert.equal(inbox(), before + 1);
      delivered++;
    }),
    { numRuns: 60, seed: 21 },
  );
  assert.ok(delivered > 5, `some were delivered (${delivered})`);
});
