// The TLS settings of every mail listener (SMTP and submission STARTTLS, POP3 STLS, POP3S):
// Mozilla's intermediate profile from @sstt/runtime (TLS 1.2/1.3, ECDHE+AEAD suites, X25519,
// P-256 and P-384, no client renegotiation), then the key and certificates. With `ca` (the lab
// CA) in the context OpenSSL sends the chain leaf + CA, as apps/http does, so a client that
// trusts the CA can verify without having the leaf's issuer at hand (RFC 8446 §4.4.2).
// Session resumption stays on: tickets (RFC 5077, RFC 8446 §2.2) from each context's keys.
import type tls from 'node:tls';
import { intermediateTlsOptions } from '@sstt/runtime';

export function mailTlsOptions(credentials: tls.SecureContextOptions): tls.SecureContextOptions {
  return { ...intermediateTlsOptions(), ...credentials };
}
