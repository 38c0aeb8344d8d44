/**
 * Composes a running Mailyard: config -> logger -> database (migrated, `_default` ensured) -> repositories and
 * event bus -> TLS -> listeners. Rules: nothing binds before the config and database are good; if any listener
 * fails to bind, everything started so far is stopped and start() rejects; stop() stops accepting everywhere at
 * once, lets in-flight transactions finish within server.shutdown_timeout, then closes the database.
 */

import { readFileSync } from 'node:fs';
import { createAppPasswordService } from '../accounts/appPasswords.ts';
import { createAccountService } from '../accounts/service.ts';
import { createSessionService } from '../accounts/sessions.ts';
import { createTotpService } from '../accounts/totp.ts';
import { type AdminToken, resolveAdminToken } from '../auth/adminToken.ts';
import { createBruteForceGuard } from '../auth/bruteForce.ts';
import { createIpAccess } from '../auth/ipAccess.ts';
import type { LoginDeps } from '../auth/login.ts';
import { deriveKey, loadServerSecret } from '../auth/serverSecret.ts';
import type { Config } from '../config/load.ts';
import { closeDatabase, type Db, dbOptions, migrate, openDatabase, probe } from '../db/client.ts';
import { createDkimRotation } from '../dkim/rotation.ts';
import { signingKeyFor, signMessage } from '../dkim/sign.ts';
import { createResolver, type Resolver } from '../dns/resolver.ts';
import { createDomainService } from '../domains/service.ts';
import { createEventBus, type EventBus } from '../events/bus.ts';
import { deferredGraphQL } from '../graphql/endpoint.ts';
import { healthReport, healthRoute } from '../http/health.ts';
import { createHttpServer } from '../http/server.ts';
import { ImapHub } from '../imap/hub.ts';
import { createImapServer } from '../imap/server.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { createListener, type Listener } from '../net/listener.ts';
import { createInboundPolicy } from '../policy/inbound.ts';
import { createQueueAdmin } from '../queue/admin.ts';
import { createMtaSts } from '../queue/mtaSts.ts';
import { createSrs } from '../queue/srs.ts';
import { createQueueWorker, type QueueWorker } from '../queue/worker.ts';
import { createRepos, type Repos } from '../repos/index.ts';
import { createRest } from '../rest/server.ts';
import { createSmtpServer } from '../smtp/server.ts';
import { createMailStore, type MailStore } from '../store/mailStore.ts';
import { loadConfigured, loadTls } from '../tls/certificates.ts';
import { createTlsStore, type TlsStore } from '../tls/store.ts';
import { VERSION } from '../version.ts';
import type { Services } from './services.ts';

export interface Mailyard {
  config: Config;
  log: Logger;
  db: Db;
  bus: EventBus;
  repos: Repos;
  /** The mail store: every change to stored mail (SMTP deliveries, IMAP) goes through it. */
  mail: MailStore;
  /** The one DNS resolver (dns.servers); every lookup goes through it. */
  dns: Resolver;
  services: Services;
  /** The live certificates (reloaded when their files change, and by reloadTls()). */
  tls: TlsStore;
  /** Reads the certificate files again (SIGHUP); false (and the previous certificates kept) if they are bad. */
  reloadTls(): boolean;
  adminToken: AdminToken;
  listeners: Listener[];
  migrationsApplied: number;
  templateCreated: boolean;
  /** Settles when the GraphQL API has loaded (it loads once the listeners are up); rejects if it cannot. */
  graphqlReady: Promise<void>;
  health(): ReturnType<typeof healthReport>;
  stop(): Promise<void>;
}

export async function startMailyard(
  config: Config,
  opts: { log?: Logger /** The policy clock (greylisting, rate limits); tests move it. */; now?: () => number } = {},
): Promise<Mailyard> {
  const log = opts.log ?? createLogger(config.logger);
  const startedAt = Date.now();

  let db: Db;
  try {
    db = openDatabase(dbOptions(config));
  } catch (e) {
    throw new Error(`cannot open database ${config.database.path}: ${(e as Error).message}`);
  }

  let listeners: Listener[] = [];
  try {
    const migrationsApplied = migrate(db);
    const bus = createEventBus((topic, err) => log.error({ err, topic }, 'event listener failed'));
    const repos = createRepos(db, bus);
    const templateCreated = repos.domains.ensureTemplate();
    const tlsAtStart = await loadTls(config);
    const { cert_file, key_file } = config.tls;
    const tls = createTlsStore({
      initial: tlsAtStart,
      defaultFiles: cert_file && key_file ? { cert_file, key_file } : undefined,
      extra: config.tls.certificates,
      initialExtra: config.tls.certificates.map((f, i) => loadConfigured(f, `tls.certificates.${i}`, config.source)),
      report: (r) =>
        r.ok
          ? log.info({ reason: r.reason, subjects: r.subjects }, 'tls certificates reloaded')
          : log.error(
              { reason: r.reason, err: r.error, file: (r.error as { file?: string }).file, kept: true },
              'tls reload failed',
            ),
    });
    if (config.tls.acme.enabled)
      log.warn(
        { config: config.source, using: tls.current.source },
        'tls.acme.enabled is set but ACME is not implemented yet: serving the configured or self-signed certificate',
      );
    const adminToken = resolveAdminToken(config);

    const mail = createMailStore({ mailDir: config.storage.mail_dir, repos, log });
    const dns = createResolver({ servers: config.dns.servers, timeoutMs: config.dns.timeout * 1000 });
    const policy = createInboundPolicy({ config, repos, log, now: opts.now });
    const srs = config.queue.srs ? createSrs(deriveKey(loadServerSecret(config.dataDir), 'srs')) : null;
    let ca: string | undefined;
    if (config.queue.tls_ca_file) {
      try {
        ca = readFileSync(config.queue.tls_ca_file, 'utf8');
      } catch (e) {
        throw new Error(
          `${config.source}: queue.tls_ca_file: cannot read ${config.queue.tls_ca_file}: ${(e as Error).message}`,
        );
      }
    }
    const mtaSts = config.queue.mta_sts
      ? createMtaSts({
          dns,
          store: repos.mtaSts,
          port: config.queue.mta_sts_port,
          ca,
          timeoutMs: config.queue.connect_timeout * 1000,
          onFailure: (domain, reason) => log.debug({ domain, reason }, 'no MTA-STS policy'),
        })
      : null;
    const worker: QueueWorker = createQueueWorker({
      config,
      repos,
      mail,
      dns,
      bus,
      log: log.child({ proto: 'queue' }),
      mtaSts,
      ca,
    });
    const inbound = {
      config,
      mail,
      directory: repos,
      events: repos.deliveryEvents,
      policy: policy.pipeline,
      srs,
      log,
    };
    // Submitted mail is signed with the From domain's active DKIM key (when its signing is on).
    const dkim = {
      sign(path: string, fromDomain: string): Promise<string> {
        const domain = repos.domains.get(fromDomain);
        const key = domain ? signingKeyFor(domain) : null;
        return key ? signMessage(path, [key]) : Promise.resolve('');
      },
    };
    const totp = createTotpService(repos, {
      key: () => deriveKey(loadServerSecret(config.dataDir), 'totp'),
      issuer: config.server.hostname,
      now: opts.now,
    });
    const guard = createBruteForceGuard({ repos, counters: policy.counters, bus, log, now: opts.now });
    const stopGuardCleanup = guard.startCleanup([
      { name: 'API sessions', run: () => repos.sessions.cleanup((opts.now ?? Date.now)()) },
    ]);
    const logins: LoginDeps = {
      users: repos.users,
      domains: repos.domains,
      appPasswords: repos.appPasswords,
      guard,
      secondFactor: totp,
      bus,
      warn: (msg, detail) => log.warn(detail, msg),
    };
    const services: Services = {
      repos,
      bus,
      config,
      adminToken: adminToken.token,
      domains: createDomainService(repos),
      accounts: createAccountService(repos),
      totp,
      sessions: createSessionService({ repos, logins, sessionHours: config.api.session_hours, now: opts.now, log }),
      appPasswords: createAppPasswordService(repos),
      ipAccess: createIpAccess(repos),
      dkim: createDkimRotation(repos),
      queue: createQueueAdmin(repos, log),
    };
    // The GraphQL implementation loads once the listeners are up, so that it does not delay them; /graphql
    // requests wait for it meanwhile (graphql/endpoint.ts).
    let loadGraphQL!: () => void;
    const graphqlLoading = new Promise<void>((go) => (loadGraphQL = go))
      .then(() => import('../graphql/server.ts'))
      .then((m) => m.createGraphQL(services, log));
    const graphql = deferredGraphQL(graphqlLoading);
    const rest = createRest(services);
    const submission = { config, mail, repos, logins, counters: policy.counters, log, dkim, now: opts.now };
    const imap = {
      config,
      mail,
      index: mail.index,
      logins,
      bus,
      log: log.child({ proto: 'imap' }),
      tls,
      hub: new ImapHub(bus),
    };
    const pruneEvents = () => {
      try {
        const removed = repos.deliveryEvents.prune(Date.now() - config.events.retention_days * 86_400_000);
        if (removed) log.info({ removed }, 'delivery events pruned');
      } catch (err) {
        log.warn({ err }, 'delivery event pruning failed');
      }
    };
    pruneEvents();
    const pruneTimer = setInterval(pruneEvents, 3_600_000);
    pruneTimer.unref();

    const address = config.server.bind_address;
    const source = {
      version: VERSION,
      startedAt,
      database: () => {
        try {
          return { status: 'ok' as const, journal_mode: probe(db).journalMode };
        } catch (e) {
          return { status: 'error' as const, error: (e as Error).message };
        }
      },
      listeners: () => Object.fromEntries(listeners.map((l) => [l.name, l.status()])),
      tls: () => ({ source: tls.current.source, valid_to: tls.current.validTo }),
      graphql: graphql.state,
    };
    listeners = [
      createListener('smtp_relay', config.smtp.relay_port, address, () =>
        createSmtpServer('mx', config, tls, log, inbound, submission),
      ),
      createListener('smtp_submission', config.smtp.submission_port, address, () =>
        createSmtpServer('submission', config, tls, log, inbound, submission),
      ),
      createListener('smtps', config.smtp.smtps_port, address, () =>
        createSmtpServer('smtps', config, tls, log, inbound, submission),
      ),
      createListener('imap', config.imap.port, address, () => createImapServer(false, imap)),
      createListener('imaps', config.imap.imaps_port, address, () => createImapServer(true, imap)),
      createListener('api', config.api.port, address, () => {
        const http = createHttpServer([healthRoute(source), graphql.route, rest], log);
        const closeWs = graphql.attachWebSocket(http.server);
        return {
          listen: http.listen,
          close: async (graceMs) => {
            await closeWs();
            await http.close(graceMs);
          },
        };
      }),
    ];
    try {
      await Promise.all(listeners.map((l) => l.start()));
      loadGraphQL();
      worker.start();
    } catch (e) {
      await Promise.all(listeners.map((l) => l.stop(0)));
      throw e;
    }

    const graphqlReady = graphqlLoading.then(
      () => log.info({ ms: Date.now() - startedAt }, 'graphql api ready'),
      (err) => {
        log.error({ err }, 'graphql api failed to load');
        throw err;
      },
    );
    graphqlReady.catch(() => {}); // the caller's to handle; never an unhandled rejection
    let stopping: Promise<void> | undefined;
    const app: Mailyard = {
      config,
      log,
      db,
      bus,
      repos,
      mail,
      dns,
      services,
      tls,
      reloadTls: () => tls.reload('SIGHUP'),
      adminToken,
      listeners,
      migrationsApplied,
      templateCreated,
      graphqlReady,
      health: () => healthReport(source),
      stop() {
        stopping ??= (async () => {
          const graceMs = config.server.shutdown_timeout * 1000;
          log.info({ graceMs }, 'shutting down: no new connections, waiting for in-flight transactions');
          clearInterval(pruneTimer);
          stopGuardCleanup();
          policy.close();
          tls.close();
          await Promise.all([...listeners.map((l) => l.stop(graceMs)), worker.stop(graceMs)]);
          await mail.close();
          closeDatabase(db);
          log.info('mailyard stopped');
        })();
        return stopping;
      },
    };
    log.info(
      {
        version: VERSION,
        config: config.source,
        database: config.database.path,
        migrationsApplied,
        templateCreated,
        tls: tls.current.source,
        listeners: source.listeners(),
      },
      'mailyard started',
    );
    return app;
  } catch (e) {
    closeDatabase(db);
    throw e;
  }
}
