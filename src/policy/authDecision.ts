/**
 * What SPF, DKIM, DMARC and ARC outcomes mean for a message, from the RECIPIENT domain's settings.
 * Rules:
 *  - SPF (spf_enabled): fail -> spf_fail_action, softfail -> spf_softfail_action (reject: reason spf_fail or
 *    spf_softfail, the SMTP reply is 550 5.7.23 with the explanation; quarantine; tag; accept); every other result
 *    (pass, neutral, none, temperror, permerror) is accepted and only reported: the settings have no action for
 *    DNS trouble, and a temperror must not turn into a refusal of mail a domain publishes correctly.
 *  - DKIM (dkim_verify_enabled): reported only, whatever the signatures say (a broken signature alone is no
 *    reason to refuse; DMARC decides what an unauthenticated author domain means).
 *  - DMARC (dmarc_enabled): the SENDER's published policy, as applied to this message (sp=/np=/t=y included):
 *    a fail under p=reject -> reject (dmarc_reject, 550 5.7.1), under p=quarantine -> quarantine
 *    (dmarc_quarantine), under p=none -> accept (dmarc_none); pass, none, temperror, permerror -> accept.
 *    The domain's own dmarc_policy column is what it publishes, not what it enforces, and plays no part here.
 *  - ARC (with DKIM or DMARC on) is reported only: no sealers are trusted, so a chain never overrides DMARC.
 *  - The Authentication-Results line travels on the first result returned (added whatever the verdict); with
 *    SPF, DKIM and DMARC all off there is no result and no header.
 */
import type { DomainRow } from '../repos/rows.ts';
import type { AuthOutcome } from './authenticate.ts';
import type { SpfOutcome } from './spf.ts';
import type { Action, CheckResult } from './verdict.ts';

export type AuthSettings = Pick<
  DomainRow,
  'spf_enabled' | 'spf_fail_action' | 'spf_softfail_action' | 'dkim_verify_enabled' | 'dmarc_enabled'
>;

/** The SPF result alone (MAIL/RCPT time, and the spf part of decide()); null when SPF is off or did not run. */
export function decideSpfEarly(spf: SpfOutcome | null | undefined, settings: AuthSettings): CheckResult | null {
  if (!spf || !settings.spf_enabled) return null;
  const detail = { result: spf.result, domain: spf.domain, identity: spf.identity };
  const configured =
    spf.result === 'fail' ? settings.spf_fail_action : spf.result === 'softfail' ? settings.spf_softfail_action : null;
  if (!configured) return { check: 'spf', action: 'accept', reason: `spf_${spf.result}`, detail };
  const action: Action = configured;
  return {
    check: 'spf',
    action,
    reason: spf.result === 'fail' ? 'spf_fail' : 'spf_softfail',
    // The domain's explanation when it gave one (RFC 7208 6.2), else what was checked.
    text: spf.explanation ?? `${spf.domain} does not designate this address as a permitted sender`,
    detail,
  };
}

/** The check results of one authenticated message, in pipeline order (spf, dkim, arc, dmarc). */
export function decide(outcome: Omit<AuthOutcome, 'raw'>, settings: AuthSettings): CheckResult[] {
  const results: CheckResult[] = [];
  const spf = decideSpfEarly(outcome.spf, settings);
  if (spf) results.push(spf);

  if (settings.dkim_verify_enabled) {
    const pass = outcome.dkim.find((s) => s.result === 'pass');
    const first = pass ?? outcome.dkim[0];
    results.push({
      check: 'dkim',
      action: 'accept',
      reason: first ? `dkim_${first.result}` : 'dkim_none',
      detail: {
        result: first?.result ?? 'none',
        signatures: outcome.dkim.map((s) => ({ result: s.result, domain: s.domain, selector: s.selector })),
      },
    });
  }
  if (settings.dkim_verify_enabled || settings.dmarc_enabled)
    results.push({
      check: 'arc',
      action: 'accept',
      reason: `arc_${outcome.arc.result}`,
      detail: { result: outcome.arc.result, instance: outcome.arc.instance },
    });

  if (settings.dmarc_enabled) {
    const d = outcome.dmarc;
    const detail = d
      ? { result: d.result, domain: d.domain, policy: d.policy, aligned: d.aligned }
      : { result: 'none', reason: outcome.dmarcSkipReason ?? 'no_author_domain' };
    if (d && d.result === 'fail' && d.policy === 'reject')
      results.push({
        check: 'dmarc',
        action: 'reject',
        reason: 'dmarc_reject',
        text: `Message rejected by the DMARC policy of ${d.domain}`,
        detail,
      });
    else if (d && d.result === 'fail' && d.policy === 'quarantine')
      results.push({ check: 'dmarc', action: 'quarantine', reason: 'dmarc_quarantine', detail });
    else results.push({ check: 'dmarc', action: 'accept', reason: `dmarc_${d?.result ?? 'none'}`, detail });
  }

  if (results[0]) results[0] = { ...results[0], headers: [outcome.authResults] };
  return results;
}
