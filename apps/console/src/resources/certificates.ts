// The certificates of packages/pki (loaded on first use: node-forge is large): the list with
// issuer and validity, the CA and PKCS#12 downloads, revoke and renew. Revoke and renew generate
// keys, sign and encrypt PKCS#12 bundles: in a worker thread, one job at a time (pki-jobs.ts), so
// the console keeps answering meanwhile.
import fs from 'node:fs';
import path from 'node:path';
import { certPaths } from '@sstt/scenario';
import { endpoints } from '../api/endpoints.ts';
import type { Certificate } from '../api/schemas.ts';
import { type PkiOp, PkiRefusal } from '../pki-jobs.ts';
import type { ResourceContext } from './context.ts';
import { ApiError, disposition } from './serve.ts';

export function certificatesResource({ s, serve, pkiJobs }: ResourceContext): void {
  const pki = () => import('@sstt/pki');
  /** A path inside the checkout relative to it (as the banner shows paths), others as they are. */
  const rel = (p: string) => {
    const r = path.relative(s.paths.root, p);
    return r.startsWith('..') || path.isAbsolute(r) ? p : r;
  };

  serve(endpoints.certificates, async () => {
    const { listCertificates } = await pki();
    const { X509Certificate } = await import('node:crypto');
    const certificates = listCertificates(s).map((ci): Certificate => {
      let extra: { issuer?: string; notBefore?: string } = {};
      try {
        const x = new X509Certificate(fs.readFileSync(ci.file));
        extra = { issuer: x.issuer.split('\n').join(', '), notBefore: new Date(x.validFrom).toISOString() };
      } catch {
        // missing file: status says so
      }
      const { notAfter, p12, ...rest } = ci;
      return {
        ...rest,
        ...extra,
        file: rel(ci.file),
        ...(notAfter ? { notAfter: notAfter.toISOString() } : {}),
        ...(p12 ? { p12: rel(p12), download: `/api/v1/certificates/${ci.name}/p12` } : {}),
      };
    });
    return { certificates, p12Password: s.pki.p12Password, caDownload: '/api/v1/certificates/ca.crt' };
  });

  serve(endpoints.caCert, () => {
    const file = certPaths(s).ca.cert;
    if (!fs.existsSync(file)) throw new ApiError(404, 'no CA yet: run npx sstt-pki init');
    return new Response(fs.readFileSync(file), {
      headers: { 'Content-Type': endpoints.caCert.reply.media, 'Content-Disposition': disposition('attachment', 'ca.crt') },
    });
  });

  serve(endpoints.p12, async ({ params }) => {
    const { listCertificates } = await pki();
    const ci = listCertificates(s).find((x) => x.name === params.name);
    if (!ci?.p12 || !fs.existsSync(ci.p12)) throw new ApiError(404, 'no PKCS#12 file for this certificate');
    return new Response(fs.readFileSync(ci.p12), {
      headers: { 'Content-Type': endpoints.p12.reply.media, 'Content-Disposition': disposition('attachment', `${ci.name}.p12`) },
    });
  });

  const job = async (op: PkiOp, name: string) => {
    try {
      return await pkiJobs.run(op, name);
    } catch (err) {
      if (err instanceof PkiRefusal) throw new ApiError(404, err.message);
      throw err;
    }
  };
  serve(endpoints.revoke, async ({ params }) => {
    await job('revoke', params.name);
    return { revoked: params.name };
  });
  serve(endpoints.renew, async ({ params }) => ({ renewed: await job('renew', params.name) }));
}
