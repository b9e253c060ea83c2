// Mail authentication as the domain publishes it: the SPF policy (RFC 7208), the DKIM keys
// (RFC 6376, RSA and Ed25519 per RFC 8463) and the DMARC policy (RFC 7489), as the texts of the
// TXT records zone.ts adds to the forward zone, and the public half of each DKIM key read from
// the file packages/pki writes. Only node:crypto and node:fs here: the DNS server's bundle reads
// the keys through this module and must not carry the PKI (node-forge).
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Scenario } from './scenario.ts';

/** The DKIM signing algorithms we publish a key for (RFC 8301 §3.1: rsa-sha256; RFC 8463 §3: ed25519-sha256). */
export type DkimAlgorithm = 'rsa-sha256' | 'ed25519-sha256';

export type DmarcPolicy = 'none' | 'quarantine' | 'reject';

/** The default selectors, one per algorithm (`mail.auth.selectors` renames them). */
export const DKIM_SELECTORS = { rsa: 'rsa', ed25519: 'ed25519' } as const;

/** RSA keys of 2048 bits: RFC 8301 §3.2 asks for at least 2048 to be able to verify, 1024 at least to sign. */
export const DKIM_RSA_BITS = 2048;

export interface DkimKey {
  selector: string;
  algorithm: DkimAlgorithm;
  /**
   * The key's p= tag (RFC 6376 §3.6.1, base64), read by the loader from certs/dkim/<selector>.pub;
   * undefined until the pki has minted the key, and then the zone publishes no record for it.
   */
  publicKey?: string;
}

/** The `k=` key type of an algorithm (RFC 6376 §3.6.1, RFC 8463 §4). */
export const dkimKeyType = (a: DkimAlgorithm): 'rsa' | 'ed25519' => (a === 'rsa-sha256' ? 'rsa' : 'ed25519');

/** Where a selector's key record lives (RFC 6376 §3.6.2.1): `<selector>._domainkey.<domain>`. */
export const dkimRecordName = (s: Scenario, selector: string): string => `${selector}._domainkey.${s.domain}`;

/**
 * The p= of a public key in PEM or DER (SubjectPublicKeyInfo): for RSA, the base64 of the DER
 * SubjectPublicKeyInfo, as every signer and verifier publishes and reads it (RFC 6376 §3.6.1
 * names RSAPublicKey, but its own example and all implementations use the SPKI); for Ed25519 the
 * bare 32-byte public key (RFC 8463 §4: "the base64 encoding of the public key", not an SPKI).
 */
export function dkimPublicKeyData(key: string | Buffer): { keyType: 'rsa' | 'ed25519'; p: string } {
  const pub = crypto.createPublicKey(typeof key === 'string' || !isDer(key) ? key : { key, format: 'der', type: 'spki' });
  if (pub.asymmetricKeyType === 'rsa') return { keyType: 'rsa', p: pub.export({ type: 'spki', format: 'der' }).toString('base64') };
  if (pub.asymmetricKeyType === 'ed25519') {
    const x = pub.export({ format: 'jwk' }).x!;
    return { keyType: 'ed25519', p: Buffer.from(x, 'base64url').toString('base64') };
  }
  throw new Error(`a DKIM key is RSA or Ed25519, not ${pub.asymmetricKeyType}`);
}

/** DER starts with a SEQUENCE tag; PEM with text. */
const isDer = (b: Buffer) => b[0] === 0x30;

/**
 * The p= of the public key in `file` for `algorithm`, or undefined when there is no such file
 * (the pki has not run yet). A file that holds another kind of key, or no key, is an error: a
 * zone silently publishing nothing would hide it.
 */
export function readDkimPublicKey(file: string, algorithm: DkimAlgorithm): string | undefined {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const { keyType, p } = dkimPublicKeyData(data);
  if (keyType !== dkimKeyType(algorithm)) throw new Error(`${file}: a ${keyType} key, but the selector is for ${algorithm}`);
  return p;
}

/** The DKIM key record (RFC 6376 §3.6.1): version, key type, public key. */
export function dkimRecordText(key: DkimKey & { publicKey: string }): string {
  return `v=DKIM1; k=${dkimKeyType(key.algorithm)}; p=${key.publicKey}`;
}

/** A CIDR block as an SPF ip4/ip6 mechanism (RFC 7208 §5.6); a single address without its /32 or /128. */
function ipMechanism(cidr: string): string {
  const [addr, bits] = cidr.split('/');
  const v6 = addr!.includes(':');
  const full = v6 ? '128' : '32';
  return `${v6 ? 'ip6' : 'ip4'}:${addr}${bits && bits !== full ? `/${bits}` : ''}`;
}

/**
 * The domain's SPF policy (RFC 7208 §4.6): the MX host (`mx`, §5.4) and every network we relay
 * for (`scenario.mail.relayNets`: the lab's LAN, this machine) may send as the domain; anyone
 * else fails (`-all`, §5.1). The hosts that may send as us are exactly those our SMTP server
 * relays for, so one setting says both.
 */
export function spfRecordText(s: Scenario): string {
  return ['v=spf1', 'mx', ...s.mail.relayNets.map(ipMechanism), '-all'].join(' ');
}

/**
 * The domain's DMARC policy (RFC 7489 §6.3): `p=` from `mail.auth.dmarcPolicy` (reject unless
 * set; README "Mail authentication" says why), aggregate reports to the postmaster (`rua`,
 * §7.1: a mailbox of the domain itself needs no authorization record). Alignment stays relaxed
 * (the default adkim=r aspf=r), so mail of a subdomain signed by the domain aligns.
 */
export function dmarcRecordText(s: Scenario): string {
  return `v=DMARC1; p=${s.mail.auth.dmarcPolicy}; rua=mailto:postmaster@${s.domain}`;
}

/**
 * Splits a TXT record's text into <character-string>s of at most 255 octets (RFC 1035 §3.3.14);
 * a verifier joins them without a separator (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
 */
export function txtStrings(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += 255) out.push(text.slice(i, i + 255));
  return out.length ? out : [''];
}
