/**
 * The antivirus check: the spooled message scanned by clamd (clamd.ts), judged by the recipient domain's
 * settings. Rules: at most `clamav_max_scan_size` bytes are scanned; a virus -> `clamav_virus_action` (reject:
 * 554 5.7.1 naming the signature; quarantine: Junk; tag: delivered with an X-Virus-Status header); clamd down,
 * timing out or answering an error -> `clamav_fail_action` (reject becomes a tempfail, 451 4.7.1: the message
 * was not judged, so the sender retries; quarantine; tag; accept), with the reason `scanner_unavailable`.
 */
import type { DomainRow } from '../repos/rows.ts';
import type { Clamd } from './clamd.ts';
import type { Action, CheckResult } from './verdict.ts';

export function createAntivirus(clamd: Pick<Clamd, 'scanFile'>) {
  return {
    async scan(path: string, domain: DomainRow): Promise<CheckResult | null> {
      const r = await clamd.scanFile(path, domain.clamav_max_scan_size);
      if (r.status === 'clean') return { check: 'clamav', action: 'accept', reason: 'clean' };
      if (r.status === 'virus') {
        const action = domain.clamav_virus_action as Action;
        return {
          check: 'clamav',
          action,
          reason: 'virus_detected',
          text: r.signature,
          detail: { signature: r.signature },
          headers: action === 'reject' ? [] : [`X-Virus-Status: Infected (${r.signature})`],
        };
      }
      const fail = domain.clamav_fail_action;
      return {
        check: 'clamav',
        action: fail === 'reject' ? 'tempfail' : (fail as Action),
        reason: 'scanner_unavailable',
        detail: { error: r.error, fail_action: fail },
        headers: fail === 'reject' || fail === 'accept' ? [] : ['X-Virus-Status: Unscanned'],
      };
    },
  };
}
