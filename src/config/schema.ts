/**
 * The bootstrap configuration, declared once. Every key of gomailserver's `gomailserver.yaml` is accepted with
 * the same meaning; keys Mailyard adds are marked "(Mailyard)". The example config (`mailyard config example`),
 * the env overrides (MAILYARD_<SECTION>_<KEY>) and the unknown-key warnings are all derived from this schema.
 * Rules: every leaf has a description; a leaf with no default is optional and shown commented out in the example.
 * Durations are seconds unless the key says otherwise; a port of 0 disables that listener.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { parseNetwork } from '../net/networks.ts';

const port = (def: number, doc: string) =>
  z
    .number({ error: 'expected a port number (0-65535)' })
    .int({ error: 'expected a whole port number (0-65535)' })
    .min(0, { error: 'expected a port number (0-65535)' })
    .max(65535, { error: 'expected a port number (0-65535)' })
    .default(def)
    .meta({ description: `${doc} 0 disables it.` });

const seconds = (def: number, doc: string) =>
  z
    .number({ error: 'expected a number of seconds' })
    .positive({ error: 'expected a positive number of seconds' })
    .default(def)
    .meta({ description: `${doc} In seconds.` });

const str = (def: string, doc: string) =>
  z
    .string({ error: 'expected a string' })
    .min(1, { error: 'must not be empty' })
    .default(def)
    .meta({ description: doc });

const optStr = (doc: string, example?: string) =>
  z
    .string({ error: 'expected a string' })
    .min(1, { error: 'must not be empty' })
    .optional()
    .meta({ description: doc, example });

const bool = (def: boolean, doc: string) =>
  z.boolean({ error: 'expected true or false' }).default(def).meta({ description: doc });

const section = <T extends z.ZodRawShape>(doc: string, shape: T) =>
  z
    .object(shape, { error: 'expected a mapping (section)' })
    .prefault({} as never)
    .meta({ description: doc });

const cidr = z.string().refine((s) => parseNetwork(s) !== null, {
  error: 'expected a network such as "192.0.2.0/24", "2001:db8::/32" or a single address',
});
const hostPort = z.string().refine(
  (s) => {
    const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d{1,5}))?$/.exec(s);
    if (!m) return false;
    const host = m[1] ?? m[2] ?? '';
    const p = m[3] === undefined ? 53 : Number(m[3]);
    return isIP(host) !== 0 && p > 0 && p < 65536;
  },
  { error: 'expected "ip" or "ip:port" (e.g. 127.0.0.1:53 or [::1]:53)' },
);

export const configSchema = z
  .object({
    server: section('Server identity and listeners.', {
      hostname: optStr(
        'Fully qualified host name used in SMTP greetings, Received headers and the self-signed certificate. Default: the machine host name.',
        'mail.example.com',
      ),
      domain: optStr('Primary mail domain of this server.', 'example.com'),
      bind_address: str('0.0.0.0', '(Mailyard) Address every listener binds to. Use 127.0.0.1 for local testing.'),
      shutdown_timeout: seconds(
        30,
        '(Mailyard) On SIGTERM/SIGINT, how long in-flight transactions may take to finish.',
      ),
    }),
    database: section('SQLite database holding all settings and the mail index.', {
      path: str('./data/mailserver.db', 'Database file. Relative paths resolve against the working directory.'),
      wal_enabled: bool(true, 'Use SQLite write-ahead logging (recommended).'),
      busy_timeout: seconds(5, '(Mailyard) How long a writer waits for a lock before failing.'),
    }),
    logger: section('Logging.', {
      level: z
        .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], {
          error: 'expected one of trace, debug, info, warn, error, fatal, silent',
        })
        .default('info')
        .meta({ description: 'Minimum level written.' }),
      format: z
        .enum(['json', 'console', 'text', 'pretty'], { error: 'expected json, console, text or pretty' })
        .default('json')
        .meta({ description: 'json (one object per line) or console/text/pretty (human-readable).' }),
      output_path: str('stdout', 'stdout, stderr or a file path (appended to; its folder is created).'),
    }),
    storage: section('(Mailyard) Mail storage.', {
      mail_dir: optStr(
        'Folder holding the Maildir++ trees, one per user. Default: "mail" beside the database file.',
        '/var/lib/mailyard/mail',
      ),
    }),
    smtp: section('SMTP listeners and limits.', {
      submission_port: port(587, 'Authenticated submission (STARTTLS).'),
      relay_port: port(25, 'Incoming mail from other servers (MX).'),
      smtps_port: port(465, 'Authenticated submission over implicit TLS.'),
      max_message_size: z
        .number({ error: 'expected a size in bytes' })
        .int({ error: 'expected a whole number of bytes' })
        .min(1024, { error: 'must be at least 1024 bytes' })
        .default(52428800)
        .meta({ description: 'Largest message accepted, in bytes (advertised with SIZE).' }),
      outbound_port: z
        .number({ error: 'expected a port number (1-65535)' })
        .int({ error: 'expected a whole port number (1-65535)' })
        .min(1, { error: 'expected a port number (1-65535)' })
        .max(65535, { error: 'expected a port number (1-65535)' })
        .default(25)
        .meta({ description: '(Mailyard) Port used when delivering to remote MX hosts.' }),
      max_recipients: z
        .number()
        .int()
        .min(1)
        .max(10_000)
        .default(100)
        .meta({ description: '(Mailyard) Recipients accepted per message (more get 452 4.5.3).' }),
      max_connections: z
        .number()
        .int()
        .min(1)
        .max(100_000)
        .default(1000)
        .meta({ description: '(Mailyard) Simultaneous SMTP connections per listener.' }),
      max_connections_per_ip: z.number().int().min(1).max(10_000).default(20).meta({
        description: '(Mailyard) Simultaneous SMTP connections from one client address (more get 421 4.7.0).',
      }),
      max_errors: z
        .number()
        .int()
        .min(1)
        .max(1000)
        .default(10)
        .meta({ description: '(Mailyard) Rejected commands in one session before it is closed with 421 4.7.0.' }),
      timeout: seconds(300, '(Mailyard) Idle time allowed between commands and within DATA (RFC 5321 4.5.3.2).'),
      trusted_networks: z
        .array(cidr, { error: 'expected a list of networks such as "127.0.0.0/8" or "2001:db8::/32"' })
        .default(['127.0.0.0/8', '::1/128'])
        .meta({
          description:
            "(Mailyard) Clients the MX trusts like Postfix's mynetworks: they skip rate limits, greylisting and SPF/DKIM/DMARC (content scanning still applies). Set [] to apply every check to every client.",
          example: ['127.0.0.0/8', '::1/128', '192.0.2.0/24'],
        }),
      relay_networks: z
        .array(cidr, { error: 'expected a list of networks such as "127.0.0.0/8" or "2001:db8::/32"' })
        .default([])
        .meta({
          description:
            "(Mailyard) Clients allowed to relay mail to other domains through the MX port without authentication, like Postfix's permit_mynetworks (applications on this host, a trusted LAN). Empty: nobody; senders use authenticated submission.",
          example: ['127.0.0.0/8', '::1/128'],
        }),
    }),
    queue: section(
      '(Mailyard) Outbound delivery: the queue of mail for other servers (submitted, forwarded, bounces).',
      {
        hold: bool(
          false,
          '(Mailyard) Accept and queue mail for other servers but send none of it until this is false again (e.g. while the sending IP is being set up); forwarded copies and bounces wait too.',
        ),
        max_concurrency: z.number().int().min(1).max(10_000).default(100).meta({
          description: '(Mailyard) Deliveries (SMTP connections to other servers) in progress at once, in all.',
        }),
        destination_concurrency: z.number().int().min(1).max(1000).default(20).meta({
          description:
            "(Mailyard) Deliveries in progress at once to one destination domain (Postfix's default_destination_concurrency_limit).",
        }),
        retry_schedule: z
          .array(
            z
              .number({ error: 'expected a number of seconds' })
              .positive({ error: 'expected a positive number of seconds' }),
            {
              error: 'expected a list of numbers of seconds',
            },
          )
          .min(1, { error: 'expected at least one interval' })
          .default([300, 600, 1200, 2400, 4800, 9600, 14400])
          .meta({
            description:
              '(Mailyard) Waits between delivery attempts after a temporary failure, in seconds: the n-th retry waits the n-th value, and the last value repeats until max_age_days.',
          }),
        max_age_days: z.number().positive().max(365).default(5).meta({
          description: '(Mailyard) How long a message is retried before it bounces (RFC 5321 4.5.4.1: 4-5 days).',
        }),
        delay_warning_hours: z.number().min(0).max(8760).default(0).meta({
          description:
            "(Mailyard) Send the sender a delay notice (DSN action=delayed) once a message has waited this long; 0 = never (Postfix's delay_warning_time default).",
        }),
        connect_timeout: seconds(30, '(Mailyard) Time to connect and receive the greeting of a remote server.'),
        command_timeout: seconds(
          300,
          '(Mailyard) Time a remote server may take to answer a command (RFC 5321 4.5.3.2).',
        ),
        connection_cache_time: seconds(
          2,
          '(Mailyard) How long an idle connection to a remote server is kept for the next message to the same host.',
        ),
        require_tls: bool(
          false,
          '(Mailyard) Deliver only over STARTTLS with a certificate valid for the MX host name (else defer). Off: STARTTLS is used whenever offered (opportunistic), as Postfix does.',
        ),
        mta_sts: bool(true, "(Mailyard) Apply recipient domains' MTA-STS policies (RFC 8461) to outbound delivery."),
        mta_sts_port: z.number().int().min(1).max(65535).default(443).meta({
          description:
            '(Mailyard) HTTPS port MTA-STS policies are fetched from (443 per RFC 8461; other values are for testing).',
        }),
        tls_ca_file: optStr(
          '(Mailyard) PEM file of CA certificates trusted for remote MX certificates and MTA-STS policy hosts, in addition to the system ones.',
          '/etc/mailyard/extra-ca.pem',
        ),
        srs: bool(
          true,
          '(Mailyard) Rewrite the envelope sender of forwarded mail with SRS (as postsrsd does) so SPF passes at the destination.',
        ),
        sent_copy: bool(
          false,
          "(Mailyard) Also file a copy of each submitted message in the sender's Sent folder (clients normally APPEND their own).",
        ),
      },
    ),
    imap: section('IMAP listeners.', {
      port: port(143, 'IMAP with STARTTLS.'),
      imaps_port: port(993, 'IMAP over implicit TLS.'),
      idle_timeout: seconds(1800, 'How long an idle IMAP connection is kept (RFC 3501 asks for at least 30 minutes).'),
      plaintext_auth: z
        .enum(['never', 'loopback', 'always'], { error: 'expected never, loopback or always' })
        .default('loopback')
        .meta({
          description:
            '(Mailyard) When LOGIN and AUTHENTICATE PLAIN are allowed without TLS: never (LOGINDISABLED until STARTTLS), loopback (only for clients on 127.0.0.0/8 or ::1, like Dovecot treating local connections as secure), always (testing only).',
        }),
      max_sessions_per_user: z.number().int().min(0).max(100_000).default(50).meta({
        description: '(Mailyard) Simultaneous IMAP sessions of one user (more get NO [LIMIT] at login); 0 = no limit.',
      }),
      max_connections: z.number().int().min(1).max(1_000_000).default(10_000).meta({
        description: '(Mailyard) Simultaneous IMAP connections per listener (more are greeted with BYE).',
      }),
    }),
    api: section('Admin API (GraphQL, REST shim, /health).', {
      port: port(8080, 'HTTP port of the admin API.'),
      admin_token: optStr(
        'Bearer token with admin rights. Prefer the MAILYARD_API_ADMIN_TOKEN environment variable. Default: generated on first start and stored in <data>/admin-token (mode 0600).',
        'your-secure-random-token-here',
      ),
      graphiql: bool(true, '(Mailyard) Serve the GraphiQL playground on GET /graphql (operations still need a token).'),
      session_hours: z
        .number()
        .min(0.05)
        .max(24 * 90)
        .default(12)
        .meta({
          description: '(Mailyard) How long a session token from the GraphQL `login` mutation is valid, in hours.',
        }),
      introspection: bool(true, '(Mailyard) Allow schema introspection queries.'),
      max_depth: z
        .number()
        .int()
        .min(2)
        .max(100)
        .default(12)
        .meta({ description: '(Mailyard) Deepest selection nesting a GraphQL operation may have.' }),
      max_cost: z
        .number()
        .int()
        .min(10)
        .max(10_000_000)
        .default(20_000)
        .meta({ description: '(Mailyard) Highest estimated cost (fields x page sizes) a GraphQL operation may have.' }),
      max_batch: z
        .number()
        .int()
        .min(1)
        .max(100)
        .default(10)
        .meta({ description: '(Mailyard) Most operations in one batched GraphQL request.' }),
      subscription_buffer: z.number().int().min(1).max(1_000_000).default(1000).meta({
        description:
          '(Mailyard) Events buffered per subscriber; a subscriber further behind loses events and is told how many.',
      }),
    }),
    events: section('(Mailyard) Delivery event history.', {
      retention_days: z
        .number()
        .int()
        .min(1)
        .max(3650)
        .default(30)
        .meta({ description: '(Mailyard) Days delivery events are kept (queryable and replayable to subscribers).' }),
    }),
    security: section('External security services.', {
      clamav: section('ClamAV daemon (clamd).', {
        socket_path: str('/var/run/clamav/clamd.ctl', 'clamd Unix socket.'),
        timeout: seconds(60, 'Scan timeout.'),
      }),
      spamassassin: section('SpamAssassin daemon (spamd).', {
        host: str('localhost', 'spamd host.'),
        port: z
          .number({ error: 'expected a port number (1-65535)' })
          .int({ error: 'expected a whole port number (1-65535)' })
          .min(1, { error: 'expected a port number (1-65535)' })
          .max(65535, { error: 'expected a port number (1-65535)' })
          .default(783)
          .meta({ description: 'spamd port.' }),
        timeout: seconds(30, 'Check timeout.'),
      }),
    }),
    tls: section('TLS certificates. Without cert_file/key_file and ACME, a self-signed certificate is generated.', {
      cert_file: optStr('PEM certificate chain.', '/etc/letsencrypt/live/mail.example.com/fullchain.pem'),
      key_file: optStr('PEM private key.', '/etc/letsencrypt/live/mail.example.com/privkey.pem'),
      certificates: z
        .array(
          z.object({
            cert_file: z.string({ error: 'expected a file path' }),
            key_file: z.string({ error: 'expected a file path' }),
          }),
          { error: 'expected a list of {cert_file, key_file}' },
        )
        .default([])
        .meta({
          description:
            '(Mailyard) More certificates, chosen by the name a client asks for (SNI) among the names each one covers; cert_file/key_file stay the default. All are reloaded when their files change or on SIGHUP.',
          example: [
            {
              cert_file: '/etc/letsencrypt/live/mail.company2.com/fullchain.pem',
              key_file: '/etc/letsencrypt/live/mail.company2.com/privkey.pem',
            },
          ],
        }),
      acme: section('Automatic certificates over ACME (DNS-01).', {
        enabled: bool(false, 'Obtain and renew the certificate with ACME.'),
        email: optStr('Account contact address.', 'admin@example.com'),
        provider: optStr('DNS provider used for DNS-01 challenges.', 'cloudflare'),
        api_token: optStr('DNS provider API token. Prefer MAILYARD_TLS_ACME_API_TOKEN.', 'your-dns-provider-api-token'),
        cache_dir: str('./data/acme', 'Where the account key and certificates are kept.'),
      }),
    }),
    dns: section('(Mailyard) The one resolver every DNS lookup (MX, SPF, DKIM, DMARC, PTR, ACME) goes through.', {
      servers: z
        .array(hostPort, { error: 'expected a list of "ip:port" strings' })
        .default([])
        .meta({
          description: 'DNS servers as "ip" or "ip:port". Empty: the nameservers of /etc/resolv.conf.',
          example: ['127.0.0.1:53'],
        }),
      timeout: seconds(5, 'Timeout of one DNS query.'),
    }),
  })
  .superRefine((c, ctx) => {
    if (Boolean(c.tls.cert_file) !== Boolean(c.tls.key_file)) {
      const missing = c.tls.cert_file ? 'key_file' : 'cert_file';
      ctx.addIssue({ code: 'custom', path: ['tls', missing], message: 'cert_file and key_file must be set together' });
    }
    const ports: [string[], number][] = [
      [['smtp', 'relay_port'], c.smtp.relay_port],
      [['smtp', 'submission_port'], c.smtp.submission_port],
      [['smtp', 'smtps_port'], c.smtp.smtps_port],
      [['imap', 'port'], c.imap.port],
      [['imap', 'imaps_port'], c.imap.imaps_port],
      [['api', 'port'], c.api.port],
    ];
    const seen = new Map<number, string>();
    for (const [path, p] of ports) {
      if (p === 0) continue;
      const other = seen.get(p);
      if (other) ctx.addIssue({ code: 'custom', path, message: `port ${p} is already used by ${other}` });
      else seen.set(p, path.join('.'));
    }
  });

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
