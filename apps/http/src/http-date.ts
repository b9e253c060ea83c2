// IMF-fixdate (RFC 9110 §5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT". The Date header is formatted
// once per second, not once per response.
let cachedSecond = -1;
let cachedDate = '';

/** The Date header value for now. */
export function currentHttpDate(now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedDate = new Date(second * 1000).toUTCString();
  }
  return cachedDate;
}

export function formatHttpDate(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toUTCString();
}

/**
 * Parses an HTTP-date (RFC 9110 §5.6.7): IMF-fixdate and, as recipients must, the obsolete
 * RFC 850 and asctime forms. Returns milliseconds or undefined.
 */
export function parseHttpDate(text: string): number | undefined {
  const imf = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (\w{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/.exec(text);
  const rfc850 = /^\w+day, (\d{2})-(\w{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/.exec(text);
  const asctime = /^\w{3} (\w{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/.exec(text);
  let d: number, mon: string, y: number, h: number, mi: number, s: number;
  if (imf) [d, mon, y, h, mi, s] = [+imf[1]!, imf[2]!, +imf[3]!, +imf[4]!, +imf[5]!, +imf[6]!];
  else if (rfc850) {
    // Two-digit years: RFC 9110 §5.6.7, more than 50 years ahead means the past century.
    const yy = +rfc850[3]!;
    const nowY = new Date().getUTCFullYear();
    y = 2000 + yy > nowY + 50 ? 1900 + yy : 2000 + yy;
    [d, mon, h, mi, s] = [+rfc850[1]!, rfc850[2]!, +rfc850[4]!, +rfc850[5]!, +rfc850[6]!];
  } else if (asctime) [mon, d, h, mi, s, y] = [asctime[1]!, +asctime[2]!.trim(), +asctime[3]!, +asctime[4]!, +asctime[5]!, +asctime[6]!];
  else return undefined;
  const m = MONTHS.indexOf(mon);
  if (m < 0 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  return Date.UTC(y, m, d, h, mi, s);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
