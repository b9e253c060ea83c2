// The DNS view's calls: the zone's records (the scenario's zone value, as the DNS serves it), the
// recent exchanges from the journal, and the dig box (one query to the domain's own DNS).
import { endpoints } from '../api/endpoints.ts';
import { dig, zoneRecords } from '../zone.ts';
import type { ResourceContext } from './context.ts';
import { ApiError } from './serve.ts';

export function dnsResource({ s, serve, sessions }: ResourceContext): void {
  serve(endpoints.zone, () => ({ records: zoneRecords(s) }));
  serve(endpoints.queries, ({ query }) => {
    if ((query.name === undefined) !== (query.type === undefined)) throw new ApiError(400, 'name and type go together: ?name=<name>&type=<type>');
    let before: number | undefined;
    if (query.smtpId !== undefined) {
      const at = sessions.acceptedAt(query.smtpId);
      if (at === undefined) throw new ApiError(404, `no SMTP session of the journal accepted message ${query.smtpId}`);
      before = at + 1;
    }
    const question = query.name !== undefined && query.type !== undefined ? { name: query.name, type: query.type } : undefined;
    return {
      queries: sessions.list({ protocol: ['dns'], limit: query.limit, ...(before !== undefined ? { before } : {}), ...(question ? { question } : {}) }),
    };
  });
  serve(endpoints.dig, async ({ query }) => {
    try {
      return { server: `${s.listen.address}:${s.listen.ports.dns}`, ...(await dig(s.listen.address, s.listen.ports.dns, query.name, query.type)) };
    } catch (err) {
      throw new ApiError(502, `dig: ${(err as Error).message}`);
    }
  });
}
