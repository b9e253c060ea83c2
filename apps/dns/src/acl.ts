// allow-query: which client addresses may ask (BIND's address match list, prefixes only).
import net from 'node:net';

/** Remembered verdicts per client address, so the hot path does one Map lookup. */
export const ACL_CACHE_ENTRIES = 4096;

export interface Acl {
  allows(address: string): boolean;
}

/** Builds a matcher for prefixes like 10.0.0.0/8, 127.0.0.0/8, ::1/128 or a bare address. */
export function createAcl(prefixes: string[]): Acl {
  const list = new net.BlockList();
  for (const p of prefixes) {
    if (p === 'any') {
      list.addSubnet('0.0.0.0', 0, 'ipv4');
      list.addSubnet('::', 0, 'ipv6');
      continue;
    }
    const [addr, len] = p.split('/');
    const type = net.isIPv6(addr!) ? 'ipv6' : 'ipv4';
    if (!net.isIP(addr!)) throw new Error(`allow-query: not an address prefix: ${p}`);
    list.addSubnet(addr!, len === undefined ? (type === 'ipv4' ? 32 : 128) : Number(len), type);
  }
  const cache = new Map<string, boolean>();
  return {
    allows(address) {
      const known = cache.get(address);
      if (known !== undefined) return known;
      // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d (RFC 4291 §2.5.5.2).
      const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
      const ok = v4 ? list.check(v4, 'ipv4') : list.check(address, net.isIPv6(address) ? 'ipv6' : 'ipv4');
      if (cache.size >= ACL_CACHE_ENTRIES) cache.clear();
      cache.set(address, ok);
      return ok;
    },
  };
}
