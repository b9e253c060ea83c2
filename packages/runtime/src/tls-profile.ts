import { constants } from 'node:crypto';
import type tls from 'node:tls';

/**
 * Mozilla's "intermediate" server profile (ssl-config.mozilla.org, guidelines v5.7), the one
 * every TLS listener of the domain uses: TLS 1.2 and 1.3 only; for TLS 1.2 only ECDHE key
 * exchange with AEAD ciphers (the profile's DHE suites need a dhparam file and are left out);
 * the groups X25519, P-256 and P-384; the client's cipher preference honoured (the profile's
 * `ssl_prefer_server_ciphers off`). TLS 1.3 keeps OpenSSL's three default suites, which are
 * exactly the profile's.
 */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
] as const;

export const TLS13_CIPHERSUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'] as const;

export const TLS_GROUPS = ['X25519', 'prime256v1', 'secp384r1'] as const;

/**
 * The options to spread into `tls.createServer` / `tls.createSecureContext` beside the key and
 * certificate. `SSL_OP_NO_RENEGOTIATION` makes OpenSSL answer a client's renegotiation request
 * (TLS 1.2 ClientHello on an established connection) with a `no_renegotiation` alert instead of
 * running a new handshake (renegotiation is a CPU lever for an attacker, CVE-2011-1473).
 */
export function intermediateTlsOptions(): Pick<
  tls.SecureContextOptions,
  'minVersion' | 'maxVersion' | 'ciphers' | 'ecdhCurve' | 'honorCipherOrder' | 'secureOptions'
> {
  return {
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    ciphers: [...TLS13_CIPHERSUITES, ...TLS12_CIPHERS].join(':'),
    ecdhCurve: TLS_GROUPS.join(':'),
    honorCipherOrder: false,
    secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
  };
}
