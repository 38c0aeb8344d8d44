/**
 * The inbound policy as the MX uses it: the pipeline (pipeline.ts) with every check wired to the services it
 * needs (the one DNS resolver, clamd, spamd, the greylist and counter stores) and the periodic clean-ups.
 * Rules: checks read the recipient domain's row each time (a change through the API applies to the next
 * transaction); the clean-ups (greylist rows, idle rate-limit keys) run on the shortest interval any domain asks
 * for (greylist_cleanup_interval, ratelimit_cleanup_interval), re-read every run, at least once a minute apart;
 * close() stops them.
 */
import type { Config } from '../config/load.ts';
import type { Logger } from '../log/logger.ts';
import { networkSet } from '../net/networks.ts';
import type { Repos } from '../repos/index.ts';
import type { DomainRow } from '../repos/rows.ts';
import { createAntispam } from './antispam.ts';
import { createAntivirus } from './antivirus.ts';
import { decide, decideSpfEarly } from './authDecision.ts';
import { createAuthThread } from './authThread.ts';
import { createClamd } from './clamd.ts';
import { type Counters, createMemoryCounters } from './counters.ts';
import { createGreylist } from './greylist.ts';
import { createPipeline, type Pipeline } from './pipeline.ts';
import { createRateLimiter } from './rateLimits.ts';
import { createSpamd } from './spamd.ts';
import type { SpfOutcome } from './spf.ts';

export interface InboundPolicy {
  pipeline: Pipeline;
  /** The rate-limit counters (swept by the clean-ups): shared with authenticated submission (smtp/submission.ts). */
  counters: Counters;
  /** Runs the clean-ups once (also what the timer does). */
  cleanup(): Promise<void>;
  close(): void;
}

/** Scans talking to clamd / spamd at once: beyond this they queue (within their timeout). */
const SCANNER_CONNECTIONS = 8;

export function createInboundPolicy(deps: {
  config: Config;
  repos: Repos;
  log: Logger;
  now?: () => number;
}): InboundPolicy {
  const { config, repos, log } = deps;
  const now = deps.now ?? Date.now;
  const hostname = config.server.hostname;
  const trusted = networkSet(config.smtp.trusted_networks);
  const counters = createMemoryCounters();
  const greylist = createGreylist({ store: repos.greylist, now });
  const clamd = createClamd({
    address: config.security.clamav.socket_path,
    timeoutMs: config.security.clamav.timeout * 1000,
    maxConnections: SCANNER_CONNECTIONS,
  });
  // SPF and DKIM/DMARC/ARC run on their own thread (authThread.ts), started when a check first needs it.
  const auth = createAuthThread({ servers: config.dns.servers, timeoutMs: config.dns.timeout * 1000 });
  const spamd = createSpamd({
    host: config.security.spamassassin.host,
    port: config.security.spamassassin.port,
    timeoutMs: config.security.spamassassin.timeout * 1000,
    maxConnections: SCANNER_CONNECTIONS,
  });
  const pipeline = createPipeline(
    {
      rateLimits: createRateLimiter({ counters, now }),
      greylist,
      spf: {
        run: (tx) => auth.spf({ ip: tx.ip, helo: tx.helo, sender: tx.sender, hostname, maxLookups: tx.maxLookups }),
        decide: (outcome, domain) => decideSpfEarly(outcome as SpfOutcome | null, domain),
      },
      authentication: {
        async verify(path, tx, domain) {
          const outcome = await auth.verify(path, {
            ip: tx.ip,
            helo: tx.helo,
            sender: tx.sender,
            hostname,
            spf: tx.spf as SpfOutcome | null,
            maxLookups: domain.spf_max_lookups,
          });
          return decide(outcome, domain);
        },
      },
      antivirus: createAntivirus(clamd),
      antispam: createAntispam(spamd),
    },
    { trusted: (ip) => trusted.has(ip) },
  );

  const domains = (): DomainRow[] => {
    const all: DomainRow[] = [];
    for (
      let page = repos.domains.list({ limit: 500 });
      page.length;
      page = repos.domains.list({ after: page.at(-1)!.id, limit: 500 })
    )
      all.push(...page);
    return all;
  };
  const cleanup = async () => {
    const all = domains();
    try {
      const expiry = Math.max(0, ...all.map((d) => d.greylist_expiry_days));
      if (expiry > 0) {
        const removed = await greylist.cleanup(now(), expiry);
        if (removed) log.info({ removed }, 'greylist entries expired');
      }
      counters.sweep(now());
    } catch (err) {
      log.warn({ err }, 'policy clean-up failed');
    }
  };
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const schedule = () => {
    if (closed) return;
    const all = domains();
    const seconds = Math.max(
      60,
      Math.min(3600, ...all.flatMap((d) => [d.greylist_cleanup_interval, d.ratelimit_cleanup_interval])),
    );
    timer = setTimeout(() => cleanup().finally(schedule), seconds * 1000);
    timer.unref();
  };
  schedule();
  return {
    pipeline,
    counters,
    cleanup,
    close() {
      closed = true;
      clearTimeout(timer);
      void auth.close();
    },
  };
}
