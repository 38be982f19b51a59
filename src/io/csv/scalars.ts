/**
 * Byte-level parsers for CSV cells: numbers, timestamps and booleans are read
 * straight from the UTF-8 bytes, never through a per-cell string. Each parser
 * returns `true` and leaves its result in `scalar.value` (a double), or
 * returns `false` when the bytes are not a value of that type.
 *
 * Accepted number forms: `12`, `-5`, `+3`, `2.10`, `.20`, `5.`, `1e3`,
 * `-1.5E-2`, surrounding spaces. Integers: the same without an exponent; a
 * fraction made only of zeros (`1.0`, `3.00`) is accepted since the value is
 * exactly integral (newer TLC files write passenger counts that way), `1.5`
 * is rejected. Timestamps: `YYYY-MM-DD`, then optionally ` ` or `T`,
 * `HH:MM`, `:SS`, `.f` up to 9 digits (kept to microseconds).
 */

/** Where the parsers leave their result; a module-level slot avoids an allocation per cell. */
export const scalar = { value: 0, big: 0n, isBig: false };

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
const ZERO = 48;
const SPACE = 32;

/** Parses a decimal number (see the module doc for forms). Falls back to `Number()` for >15 significant digits. */
export function parseFloatBytes(buf: Uint8Array, s: number, e: number): boolean {
  while (s < e && buf[s] === SPACE) s++;
  while (e > s && buf[e - 1] === SPACE) e--;
  if (s === e) return false;
  let i = s;
  let negative = false;
  const sign = buf[i];
  if (sign === 45) {
    negative = true;
    i++;
  } else if (sign === 43) i++;
  let mantissa = 0;
  let digits = 0;
  let scale = 0;
  let c = 0;
  while (i < e && (c = buf[i] - ZERO) >= 0 && c <= 9) {
    mantissa = mantissa * 10 + c;
    digits++;
    i++;
  }
  if (i < e && buf[i] === 46) {
    i++;
    while (i < e && (c = buf[i] - ZERO) >= 0 && c <= 9) {
      mantissa = mantissa * 10 + c;
      digits++;
      scale++;
      i++;
    }
  }
  if (digits === 0) return parseSpecial(buf, s, e);
  let exponent = 0;
  if (i < e && (buf[i] | 32) === 101) {
    i++;
    let expNegative = false;
    if (buf[i] === 45) {
      expNegative = true;
      i++;
    } else if (buf[i] === 43) i++;
    const expStart = i;
    while (i < e && (c = buf[i] - ZERO) >= 0 && c <= 9) {
      exponent = exponent * 10 + c;
      i++;
    }
    if (i === expStart) return false;
    if (expNegative) exponent = -exponent;
  }
  if (i !== e) return false;
  const p = exponent - scale;
  let value: number;
  // One exact operand and one rounding: the same double as parseFloat.
  if (digits <= 15 && p >= -22 && p <= 22) value = p < 0 ? mantissa / POW10[-p] : mantissa * POW10[p];
  else value = Number(latin1(buf, s, e));
  scalar.value = negative ? -value : value;
  return true;
}

function parseSpecial(buf: Uint8Array, s: number, e: number): boolean {
  const text = latin1(buf, s, e).toLowerCase();
  if (text === 'nan' || text === '-nan') {
    scalar.value = NaN;
    return true;
  }
  if (text === 'inf' || text === '+inf' || text === 'infinity') {
    scalar.value = Infinity;
    return true;
  }
  if (text === '-inf' || text === '-infinity') {
    scalar.value = -Infinity;
    return true;
  }
  return false;
}

/**
 * Parses an integer (optionally with an all-zero fraction). Up to 15 digits
 * lands in `scalar.value`; 16–19 digits set `scalar.isBig` and `scalar.big`.
 */
export function parseIntBytes(buf: Uint8Array, s: number, e: number): boolean {
  while (s < e && buf[s] === SPACE) s++;
  while (e > s && buf[e - 1] === SPACE) e--;
  let i = s;
  let negative = false;
  const sign = buf[i];
  if (sign === 45) {
    negative = true;
    i++;
  } else if (sign === 43) i++;
  const start = i;
  let value = 0;
  let c = 0;
  while (i < e && (c = buf[i] - ZERO) >= 0 && c <= 9) {
    value = value * 10 + c;
    i++;
  }
  const digits = i - start;
  if (digits === 0) return false;
  const digitsEnd = i;
  if (i < e && buf[i] === 46) {
    i++;
    while (i < e && buf[i] === ZERO) i++;
  }
  if (i !== e) return false;
  if (digits <= 15) {
    scalar.isBig = false;
    scalar.value = negative ? -value : value;
    return true;
  }
  const big = BigInt(latin1(buf, start, digitsEnd)) * (negative ? -1n : 1n);
  if (big > 9223372036854775807n || big < -9223372036854775808n) return false;
  scalar.isBig = true;
  scalar.big = big;
  return true;
}

/** Parses `YYYY-MM-DD[( |T)HH:MM[:SS[.fffffffff]]]` into microseconds since the epoch (naive, no zone). */
export function parseTimestampBytes(buf: Uint8Array, s: number, e: number): boolean {
  while (s < e && buf[s] === SPACE) s++;
  while (e > s && buf[e - 1] === SPACE) e--;
  if (e - s < 10 || buf[s + 4] !== 45 || buf[s + 7] !== 45) return false;
  const year = digits(buf, s, 4);
  const month = digits(buf, s + 5, 2);
  const day = digits(buf, s + 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
  let seconds = 0;
  let micros = 0;
  let i = s + 10;
  if (i < e) {
    const sep = buf[i];
    if ((sep !== SPACE && sep !== 84) || e - i < 6 || buf[i + 3] !== 58) return false;
    const hour = digits(buf, i + 1, 2);
    const minute = digits(buf, i + 4, 2);
    if (hour < 0 || hour > 23 || minute < 0 || minute > 59) return false;
    seconds = hour * 3600 + minute * 60;
    i += 6;
    if (i < e) {
      if (buf[i] !== 58 || e - i < 3) return false;
      const second = digits(buf, i + 1, 2);
      if (second < 0 || second > 59) return false;
      seconds += second;
      i += 3;
      if (i < e) {
        if (buf[i] !== 46 || e - i < 2 || e - i > 10) return false;
        let scale = 100000;
        for (let j = i + 1; j < e; j++) {
          const c = buf[j] - ZERO;
          if (c < 0 || c > 9) return false;
          micros += c * scale;
          scale /= 10;
        }
        micros = Math.floor(micros);
      }
    }
  }
  scalar.value = (daysFromCivil(year, month, day) * 86400 + seconds) * 1e6 + micros;
  return true;
}

/** `true`/`false` in any case, `1`/`0`, `t`/`f`, `yes`/`no`. */
export function parseBoolBytes(buf: Uint8Array, s: number, e: number): boolean {
  const text = latin1(buf, s, e).trim().toLowerCase();
  if (text === 'true' || text === '1' || text === 't' || text === 'yes') {
    scalar.value = 1;
    return true;
  }
  if (text === 'false' || text === '0' || text === 'f' || text === 'no') {
    scalar.value = 0;
    return true;
  }
  return false;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** `n` ASCII digits at `at` as a number, or -1 when one is not a digit. */
function digits(buf: Uint8Array, at: number, n: number): number {
  let value = 0;
  for (let i = at; i < at + n; i++) {
    const c = buf[i] - ZERO;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}

/** The bytes as a string, for the rare slow paths and for error messages. */
export function latin1(buf: Uint8Array, s: number, e: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('latin1');
}
