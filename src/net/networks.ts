/**
 * IP networks ("192.0.2.0/24", "2001:db8::/32", or one address) and membership tests, on node:net's BlockList.
 * Rules: an IPv4-mapped IPv6 address (::ffff:192.0.2.1, as a dual-stack socket reports IPv4 clients) is judged as
 * the IPv4 address; a network is refused (null) when its address or prefix length is invalid; host bits set
 * below the prefix are ignored, as routers do.
 */
import { BlockList, isIP } from 'node:net';

export interface Network {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** "::ffff:192.0.2.1" -> "192.0.2.1"; anything else unchanged. */
export const unmapIpv4 = (ip: string): string =>
  ip.toLowerCase().startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;

export function parseNetwork(text: string): Network | null {
  const [addr, bits, ...rest] = text.trim().split('/');
  if (rest.length || !addr) return null;
  const address = unmapIpv4(addr);
  const v = isIP(address);
  if (!v) return null;
  const max = v === 4 ? 32 : 128;
  if (bits !== undefined && !/^\d{1,3}$/.test(bits)) return null;
  const prefix = bits === undefined ? max : Number(bits);
  if (prefix > max) return null;
  return { address, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}

/** A set of networks; `has(ip)` is true when ip falls in one of them. */
export function networkSet(networks: readonly string[]): { has(ip: string): boolean } {
  const list = new BlockList();
  for (const n of networks) {
    const net = parseNetwork(n);
    if (!net) throw new Error(`not a network: ${n}`);
    list.addSubnet(net.address, net.prefix, net.family);
  }
  return {
    has(ip: string) {
      const a = unmapIpv4(ip);
      const v = isIP(a);
      return v !== 0 && list.check(a, v === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
