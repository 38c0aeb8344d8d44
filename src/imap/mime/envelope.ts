/**
 * ENVELOPE (RFC 3501 7.4.2): (date subject from sender reply-to to cc bcc in-reply-to message-id). Rules, as
 * Dovecot 2.3: values are the unfolded header text, still RFC 2047 encoded (raw UTF-8 stays UTF-8; the writer
 * picks quoted or literal); an absent field is NIL, an empty one ""; sender and reply-to default to from; the
 * first occurrence of a field counts; address lists are parsed by address.ts.
 */
import { Adjacent, type ImapValue } from '../protocol/types.ts';
import { type Address, parseAddressList } from './address.ts';
import { headerValue, type MimeNode } from './parse.ts';

function addresses(list: Address[]): ImapValue {
  // env-from = "(" 1*address ")": no space between the addresses.
  return list.length ? [new Adjacent(list.map((a) => [a.name, a.adl, a.mailbox, a.host]))] : null;
}

/** The ENVELOPE of a message node (the top-level one, or `node.message` of a message/rfc822 part). */
export function envelope(node: MimeNode): ImapValue {
  const v = (name: string) => headerValue(node, name);
  const addr = (name: string) => {
    const value = v(name);
    return value === null ? null : addresses(parseAddressList(value));
  };
  const from = addr('from');
  const sender = addr('sender');
  const replyTo = addr('reply-to');
  return [
    v('date'),
    v('subject'),
    from,
    sender ?? from,
    replyTo ?? from,
    addr('to'),
    addr('cc'),
    addr('bcc'),
    v('in-reply-to'),
    v('message-id'),
  ];
}
