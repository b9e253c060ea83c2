// BIND's $GENERATE directive (BIND 9 ARM, "The $GENERATE Directive"): one line that stands for a
// run of records, `$GENERATE start-stop[/step] lhs [TTL] [class] type rhs`, each `$` in lhs and
// rhs replaced by the iterator. It is not RFC 1035 syntax, but real zones (reverse zones above
// all) use it, and BIND 9.18 loads them. This file holds the two textual parts, the range and the
// substitution, as BIND 9.18's lib/dns/master.c reads them (checked against named-checkzone in
// test/zone.test.ts); master-file.ts turns each substituted line into a record.

/** Why a $GENERATE line is refused, in BIND's words (named-checkzone prints the same). */
export class GenerateError extends Error {
  override readonly name = 'GenerateError';
}

export interface GenerateRange {
  start: number;
  stop: number;
  step: number;
}

const INT_MAX = 0x7fffffff;
/** BIND formats each number into 128 octets and refuses what does not fit ("ran out of space"). */
const NUMBER_ROOM = 128;

/** A C `int` as sscanf's %d reads it; undefined beyond 32 bits (sscanf would wrap it silently). */
function int32(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  return v >= -INT_MAX - 1 && v <= INT_MAX ? v : undefined;
}

/**
 * `start-stop` or `start-stop/step`: non-negative, start ≤ stop, step ≥ 1. Like BIND's
 * sscanf("%d-%d/%d"), text after the last number is ignored ("1-5x" is 1-5).
 */
export function parseRange(text: string): GenerateRange {
  const m = /^([+-]?\d+)-([+-]?\d+)(?:(\/)([+-]?\d+)?)?/.exec(text);
  const start = int32(m?.[1]);
  const stop = int32(m?.[2]);
  const step = m?.[3] ? int32(m[4]) : 1;
  if (start === undefined || stop === undefined || step === undefined || start < 0 || stop < start || step < 1) {
    throw new GenerateError(`invalid range '${text}'`);
  }
  return { start, stop, step };
}

/**
 * The iterator in nibble form (modes n and N): least significant nibble first, one label each,
 * zero nibbles added until the text is `width` characters long, dots counted (as BIND does; a
 * width that ends on a dot leaves an empty label behind).
 */
function nibbles(value: number, width: number, upper: boolean): string {
  const digits = upper ? '0123456789ABCDEF' : '0123456789abcdef';
  let v = value >>> 0;
  let w = width;
  let out = '';
  do {
    out += digits[v & 15];
    v >>>= 4;
    if (w > 0) w--;
    if (w > 0 || v !== 0) {
      out += '.';
      if (w > 0) w--;
    }
  } while (v !== 0 || w > 0);
  return out;
}

/** printf's `%0<width><mode>` of a C int: d signed, o/x/X as unsigned 32-bit. */
function printf(value: number, width: number, mode: string): string {
  if (mode === 'd') {
    const digits = String(Math.abs(value));
    const sign = value < 0 ? '-' : '';
    return sign + digits.padStart(width - sign.length, '0');
  }
  const u = value >>> 0;
  const text = mode === 'o' ? u.toString(8) : mode === 'x' ? u.toString(16) : u.toString(16).toUpperCase();
  return text.padStart(width, '0');
}

/** `{offset}`, `{offset,width}` or `{offset,width,base}`, each part as sscanf reads it. */
const MODIFIER = /^\{([+-]?\d+)([,}])(?:([+-]?\d+)([,}])(?:([doxXnN])(\})?)?)?/;

/**
 * `template` with each `$` replaced by `it` (BIND's genname()): `${offset[,width[,base]]}` adds
 * the offset, pads to the width and writes in base d (default), o, x, X, or nibbles n, N; `$$`
 * is a literal `$` (kept for older files), and a backslash keeps the next character as it is
 * (`\$` stays `\$`, a dollar in the name once the escape is read). `limit`: the longest result.
 */
export function substitute(template: string, it: number, limit: number): string {
  let out = '';
  for (let i = 0; i < template.length; ) {
    const c = template[i]!;
    if (c === '\\') {
      out += template.slice(i, i + 2);
      i += 2;
    } else if (c !== '$') {
      out += c;
      i++;
    } else if (template[i + 1] === '$') {
      out += '$';
      i += 2;
    } else {
      i++;
      let delta = 0;
      let width = 0;
      let mode = 'd';
      if (template[i] === '{') {
        const close = template.indexOf('}', i);
        const bad = () => new GenerateError(`syntax error in '$${close < 0 ? template.slice(i) : template.slice(i, close + 1)}'`);
        const m = MODIFIER.exec(template.slice(i));
        if (!m) throw bad();
        const [, offset, sep1, w, sep2, base, brace] = m;
        // sscanf's reading: {offset}, {offset,width} or {offset,width,base}, nothing else.
        if (sep1 === ',' && (sep2 === undefined || (sep2 === ',' && (base === undefined || brace === undefined)))) throw bad();
        const d = int32(offset);
        if (d === undefined) throw new GenerateError('out of range');
        delta = d;
        if (sep1 === ',') {
          // %u: a negative width wraps to a huge one, which no buffer holds.
          width = Number(w) < 0 ? 2 ** 32 + Number(w) : Number(w);
          if (sep2 === ',') mode = base!;
        }
        // Past the first closing brace (what follows it is text again).
        i = close + 1;
      }
      if (it > 0 && delta > INT_MAX - it) throw new GenerateError('out of range');
      if (width >= NUMBER_ROOM) throw new GenerateError('ran out of space');
      const number = mode === 'n' || mode === 'N' ? nibbles(it + delta, width, mode === 'N') : printf(it + delta, width, mode);
      if (number.length >= NUMBER_ROOM) throw new GenerateError('ran out of space');
      out += number;
    }
    if (out.length >= limit) throw new GenerateError('ran out of space');
  }
  return out;
}

/**
 * The text of a quoted string as BIND's lexer hands it on (ISC_LEXOPT_QSTRING): `\"` becomes
 * `"`, every other escape stays as written, to be read again with the generated line.
 */
export function qstringText(escaped: string): string {
  return escaped.replace(/\\(.)/g, (_, ch: string) => (ch === '"' ? '"' : `\\${ch}`));
}
