import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { tmpDir } from '../helpers/tmp.ts';

const GUIDE = new URL('../fixtures/gomailserver.yaml', import.meta.url);

function write(dir: string, text: string, name = 'c.yaml') {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    return e;
  }
  assert.fail('expected a ConfigError');
}

test('the guide gomailserver.yaml loads verbatim with every key meaning what it means there', (t) => {
  const dir = tmpDir(t);
  const { config, warnings } = loadConfig({ file: GUIDE.pathname, env: {}, cwd: dir });
  assert.deepEqual(warnings, []);
  assert.equal(config.server.hostname, 'mail.example.com');
  assert.equal(config.server.domain, 'example.com');
  assert.equal(config.database.path, join(dir, 'data/mailserver.db'));
  assert.equal(config.database.wal_enabled, true);
  assert.deepEqual(config.logger, { level: 'info', format: 'json', output_path: 'stdout' });
  assert.equal(config.smtp.submission_port, 587);
  assert.equal(config.smtp.relay_port, 25);
  assert.equal(config.smtp.smtps_port, 465);
  assert.equal(config.smtp.max_message_size, 52428800);
  assert.deepEqual([config.imap.port, config.imap.imaps_port, config.imap.idle_timeout], [143, 993, 1800]);
  assert.equal(config.api.port, 8080);
  assert.equal(config.api.admin_token, 'your-secure-random-token-here');
  assert.deepEqual(config.security.clamav, { socket_path: '/var/run/clamav/clamd.ctl', timeout: 60 });
  assert.deepEqual(config.security.spamassassin, { host: 'localhost', port: 783, timeout: 30 });
  assert.equal(config.tls.acme.enabled, false);
  assert.equal(config.tls.acme.email, 'admin@example.com');
  assert.equal(config.tls.acme.provider, 'cloudflare');
  assert.equal(config.tls.acme.api_token, 'your-cloudflare-api-token');
  assert.equal(config.tls.acme.cache_dir, join(dir, 'data/acme'));
  // Mailyard's own keys take their documented defaults.
  assert.equal(config.server.bind_address, '0.0.0.0');
  assert.equal(config.storage.mail_dir, join(dir, 'data/mail'));
  assert.deepEqual(config.dns.servers, []);
  assert.equal(config.smtp.outbound_port, 25);
});

test('no config file: the embedded default profile (loopback, high ports, ./data)', (t) => {
  const dir = tmpDir(t);
  const { config } = loadConfig({ env: {}, cwd: dir });
  assert.equal(config.source, '(embedded default)');
  assert.equal(config.server.bind_address, '127.0.0.1');
  assert.deepEqual(
    [
      config.smtp.relay_port,
      config.smtp.submission_port,
      config.smtp.smtps_port,
      config.imap.port,
      config.imap.imaps_port,
      config.api.port,
    ],
    [2525, 2587, 2465, 1143, 1993, 8080],
  );
  assert.equal(config.database.path, join(dir, 'data/mailserver.db'));
  assert.equal(config.dataDir, join(dir, 'data'));
});

test('an unknown key is a warning naming the key and the file, and is ignored', (t) => {
  const dir = tmpDir(t);
  const f = write(dir, 'smtp:\n  relay_port: 2525\n  relay_prot: 25\nfrobnicate: true\n');
  const { config, warnings } = loadConfig({ file: f, env: {} });
  assert.equal(config.smtp.relay_port, 2525);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0]!, /"smtp\.relay_prot"/);
  assert.ok(warnings[0]!.includes(f));
  assert.match(warnings[1]!, /"frobnicate"/);
});

test('a wrong type or value is an error naming the key and the file', (t) => {
  const dir = tmpDir(t);
  const f = write(dir, 'smtp:\n  relay_port: "twenty-five"\nimap:\n  idle_timeout: -5\nlogger:\n  level: loud\n');
  const e = configError(() => loadConfig({ file: f, env: {} }));
  assert.equal(e.source, f);
  assert.ok(e.message.includes(f));
  const text = e.problems.join('\n');
  assert.match(text, /key "smtp\.relay_port": expected a port number.*got "twenty-five"/);
  assert.match(text, /key "imap\.idle_timeout": expected a positive number of seconds/);
  assert.match(text, /key "logger\.level": expected one of trace, debug/);
});

test('out-of-range ports, duplicate ports, half a TLS pair and bad DNS servers are rejected', (t) => {
  const dir = tmpDir(t);
  const f = write(
    dir,
    'smtp:\n  relay_port: 70000\n  submission_port: 1143\nimap:\n  port: 1143\ntls:\n  cert_file: /x.pem\ndns:\n  servers: ["8.8.8.8:53", "resolver.example:53"]\n',
  );
  const text = configError(() => loadConfig({ file: f, env: {} })).problems.join('\n');
  assert.match(text, /key "smtp\.relay_port": expected a port number \(0-65535\)/);
  assert.match(text, /key "imap\.port": port 1143 is already used by smtp\.submission_port/);
  assert.match(text, /key "tls\.key_file": cert_file and key_file must be set together/);
  assert.match(text, /key "dns\.servers\.1": expected "ip" or "ip:port"/);
  assert.doesNotMatch(text, /dns\.servers\.0/);
});

test('a section given as a scalar, a YAML syntax error and a non-mapping document are clear errors', (t) => {
  const dir = tmpDir(t);
  assert.match(
    configError(() => loadConfig({ file: write(dir, 'smtp: 25\n'), env: {} })).problems[0]!,
    /key "smtp": expected a mapping/,
  );
  const syntax = configError(() => loadConfig({ file: write(dir, 'smtp:\n  relay_port: [25\n', 'b.yaml'), env: {} }));
  assert.match(syntax.problems[0]!, /YAML syntax error at line \d+/);
  assert.match(
    configError(() => loadConfig({ file: write(dir, '- a\n- b\n', 'l.yaml'), env: {} })).problems[0]!,
    /top level must be a mapping/,
  );
});

test('a missing config file is an error naming the file', () => {
  const e = configError(() => loadConfig({ file: '/nonexistent/mailyard.yaml', env: {} }));
  assert.equal(e.source, '/nonexistent/mailyard.yaml');
  assert.deepEqual(e.problems, ['config file not found']);
});

test('environment variables override the file; a bad one is named in the error', (t) => {
  const dir = tmpDir(t);
  const f = write(dir, readFileSync(GUIDE, 'utf8'));
  const { config } = loadConfig({
    file: f,
    env: {
      MAILYARD_API_ADMIN_TOKEN: 's3cret-from-env',
      MAILYARD_SMTP_RELAY_PORT: '2525',
      MAILYARD_DATABASE_WAL_ENABLED: 'false',
      MAILYARD_DNS_SERVERS: '127.0.0.1:5353, 127.0.0.2',
      MAILYARD_TLS_ACME_API_TOKEN: 'dns-token',
    },
  });
  assert.equal(config.api.admin_token, 's3cret-from-env');
  assert.equal(config.smtp.relay_port, 2525);
  assert.equal(config.database.wal_enabled, false);
  assert.deepEqual(config.dns.servers, ['127.0.0.1:5353', '127.0.0.2']);
  assert.equal(config.tls.acme.api_token, 'dns-token');

  const e = configError(() => loadConfig({ file: f, env: { MAILYARD_IMAP_PORT: 'abc' } }));
  assert.match(e.problems[0]!, /environment variable MAILYARD_IMAP_PORT \(imap\.port\): expected a port number/);
});

// The embedded default profile is copied for each load: an environment override applies to that load only.
test('an environment override of the embedded default does not leak into later loads', (t) => {
  const first = loadConfig({ env: { MAILYARD_API_ADMIN_TOKEN: 'only-for-this-load-0123' }, cwd: tmpDir(t) });
  assert.equal(first.config.api.admin_token, 'only-for-this-load-0123');
  const later = loadConfig({ env: {}, cwd: tmpDir(t) });
  assert.equal(later.config.api.admin_token, undefined, 'the override leaked into embeddedProfile');
});
