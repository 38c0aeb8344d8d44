// Maps repository errors of mailbox operations to IMAP response codes (RFC 5530).
import { ConflictError, NotFoundError } from '../../repos/errors.ts';
import { OverQuotaError } from '../../repos/messages.ts';
import { ImapNo } from '../protocol/types.ts';

export function mapRepoError(e: unknown): never {
  if (e instanceof NotFoundError) throw new ImapNo(`Mailbox ${e.key} does not exist`, 'NONEXISTENT');
  if (e instanceof ConflictError) throw new ImapNo(e.message, /exists/.test(e.message) ? 'ALREADYEXISTS' : 'CANNOT');
  if (e instanceof OverQuotaError) throw new ImapNo('Quota exceeded', 'OVERQUOTA');
  throw e;
}
