/**
 * The deployment guide's curl commands, extracted verbatim from the guide (test/fixtures copy) and run with the
 * real curl (and jq) against a live server; only the host:port and the token placeholder are substituted.
 * Effects are checked through GraphQL.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ok, TOKEN } from '../helpers/graphql.ts';
import { ROOT, startTestServer } from '../helpers/server.ts';

// Async: the server under test runs in this process, so a blocking exec would deadlock it.
const exec = async (file: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
  (await promisify(execFile)(file, args, { ...opts, encoding: 'utf8' })).stdout;

function guideCurlCommands(): string[] {
  const md = readFileSync(new URL('../fixtures/gomailserver-deployment-guide.md', import.meta.url), 'utf8');
  const blocks = [...md.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const commands: string[] = [];
  for (const block of blocks) {
    const lines = block.split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!/^curl /.test(lines[i]!.trim())) continue;
      // A command goes on while a line ends in a backslash, a single-quoted argument is still open, or the
      // next line starts a pipe.
      let cmd = lines[i]!;
      const open = () => (cmd.match(/'/g)?.length ?? 0) % 2 === 1;
      while (i + 1 < lines.length && (cmd.endsWith('\\') || open() || lines[i + 1]!.trim().startsWith('|')))
        cmd += `\n${lines[++i]!}`;
      commands.push(cmd.trim());
    }
  }
  return commands;
}

test('the guide contains the curl commands this test expects', () => {
  const cmds = guideCurlCommands();
  assert.ok(cmds.length >= 10, `found ${cmds.length}`);
  assert.ok(cmds.some((c) => c.includes("jq -r '.dkim_public_key'")));
});

test('every curl command of the deployment guide works against Mailyard as written', async (t) => {
  const { api } = await startTestServer(t);
  const run = (cmd: string) =>
    exec('bash', ['-c', cmd.replaceAll('http://localhost:8080', api).replaceAll('your-admin-token', TOKEN)], {
      cwd: ROOT,
    });
  const outputs = new Map<string, string>();
  const skipped: string[] = [];
  for (const cmd of guideCurlCommands()) {
    if (cmd.includes('...')) {
      skipped.push(cmd); // the guide's placeholder "curl -X POST .../api/users ..." has no body to send
      continue;
    }
    outputs.set(cmd, await run(cmd));
  }
  assert.deepEqual(skipped.length, 1);

  const D = `name antispam { rejectScore } auth { totpEnforced } greylist { enabled } maxUsers defaultQuota
    dkim { signingEnabled keySize publicKey dnsPublicKey } rateLimits { smtpPerIp { count windowMinutes } authPerIp { count windowMinutes } }`;
  const q = await ok(
    api,
    `{ example: domain(name: "example.com") { ${D} } c1: domain(name: "company1.com") { ${D} }
    c2: domain(name: "company2.com") { ${D} } tpl: defaultTemplate { ${D} } }`,
  );

  // example.com: created from the template, then security updated (4096-bit key regenerated, reject 12, TOTP).
  assert.equal(q.example.dkim.keySize, 4096);
  assert.equal(createPublicKey(q.example.dkim.publicKey).asymmetricKeyDetails?.modulusLength, 4096);
  assert.equal(q.example.antispam.rejectScore, 12);
  assert.equal(q.example.auth.totpEnforced, true);
  assert.deepEqual(
    q.example.rateLimits.smtpPerIp,
    { count: 100, windowMinutes: 60 },
    'copied before the template change',
  );
  // `| jq -r '.dkim_public_key'` printed the key to publish.
  const jqOut = [...outputs].find(([c]) => c.includes('.dkim_public_key'))![1].trim();
  assert.equal(jqOut, q.example.dkim.dnsPublicKey);
  assert.match(jqOut, /^MII[A-Za-z0-9+/]+=*$/);

  // _default rate limits changed; company1 (created after) inherits them.
  assert.deepEqual(q.tpl.rateLimits, {
    smtpPerIp: { count: 50, windowMinutes: 60 },
    authPerIp: { count: 5, windowMinutes: 15 },
  });
  assert.deepEqual(q.c1.rateLimits.smtpPerIp, { count: 50, windowMinutes: 60 });
  // company1 strict, company2 relaxed with its custom creation values.
  assert.deepEqual([q.c1.antispam.rejectScore, q.c1.auth.totpEnforced, q.c1.greylist.enabled], [8, true, true]);
  assert.deepEqual([q.c2.antispam.rejectScore, q.c2.auth.totpEnforced, q.c2.greylist.enabled], [15, false, false]);
  assert.deepEqual([q.c2.maxUsers, q.c2.defaultQuota, q.c2.dkim.signingEnabled], [50, 2147483648, true]);

  // The troubleshooting command uses a wrong token ("your-token"): 401.
  const wrong = [...outputs].find(([c]) => c.includes('Bearer your-token'))![1];
  assert.equal(JSON.parse(wrong).error, 'unauthorized');
  const health = [...outputs].find(([c]) => c.endsWith('/health'))![1];
  assert.equal(JSON.parse(health).status, 'ok');
  const status = await exec('curl', [
    '-s',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '-H',
    'Authorization: Bearer your-token',
    `${api}/api/domains`,
  ]);
  assert.equal(status, '401');
});

test('examples/curl scripts run in order against a live server', async (t) => {
  const { api } = await startTestServer(t);
  const dir = `${ROOT}/examples/curl`;
  const env = { ...process.env, MAILYARD_URL: api, MAILYARD_TOKEN: TOKEN, DOMAIN: 'example.com' };
  const out: Record<string, string> = {};
  for (const s of [
    '01-create-domain.sh',
    '02-customize-security.sh',
    '03-dkim-public-key.sh',
    '04-health.sh',
    '05-default-rate-limits.sh',
    '06-multi-domain.sh',
    '07-users-and-aliases.sh',
  ])
    out[s] = await exec('bash', [`${dir}/${s}`], { env });
  assert.match(out['03-dkim-public-key.sh']!, /^MII/);
  const users = JSON.parse(out['07-users-and-aliases.sh']!.trim().split('\n').at(-1)!);
  assert.deepEqual(
    users.map((u: { email: string }) => u.email),
    ['alice@example.com'],
  );
});
