/**
 * ARC sealing (RFC 8617) of mail an alias forwards to another domain, so that the destination can trust our
 * SPF/DKIM/DMARC results although forwarding broke SPF (and possibly DKIM). Rules: sealed with the forwarding
 * domain's active DKIM key (only when its DKIM signing is on); the ARC-Authentication-Results carry the
 * Authentication-Results this MX added; cv= is the chain's state as verified on arrival (none for a message
 * without ARC, pass/fail as found); a chain that already failed is not sealed again (mailauth refuses it); the
 * result is the three header fields to prepend, folded, without the final CRLF (empty: nothing to add).
 */
import { readFile } from 'node:fs/promises';
import { sealMessage } from 'mailauth';
import type { DomainRow } from '../repos/rows.ts';
import { signingKeyFor } from './sign.ts';

export async function arcSealFields(
  path: string,
  opts: { domain: DomainRow; authResults: string; cv: string },
): Promise<string[]> {
  const key = signingKeyFor(opts.domain);
  if (!key || !opts.authResults) return [];
  const value = opts.authResults.replace(/^Authentication-Results:\s*/i, '').replace(/\r?\n[ \t]+/g, ' ');
  const seal = await sealMessage(await readFile(path), {
    signingDomain: key.domain,
    selector: key.selector,
    privateKey: key.privateKey,
    authResults: value,
    cv: opts.cv === 'pass' || opts.cv === 'fail' ? opts.cv : 'none',
  });
  const text = seal.toString('utf8').replace(/\r?\n$/, '');
  if (!text) return [];
  // One entry per header field: a new field starts on a line that does not begin with white space.
  return text.split(/\r?\n(?![ \t])/);
}
