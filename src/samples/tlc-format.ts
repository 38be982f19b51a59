/**
 * Number and time formatting as the TLC writes its CSVs: distances with two
 * decimals and no leading zero (`.20`, `2.10`), money with at most two
 * decimals and no trailing zeros (`8`, `16.5`, `51.95`), timestamps
 * `YYYY-MM-DD HH:MM:SS`.
 */

const PAD2 = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i)));

/** `2.1` → `2.10`, `0.2` → `.20`, `0` → `.00`. */
export function formatDistance(miles: number): string {
  const cents = Math.round(miles * 100);
  const whole = Math.floor(cents / 100);
  return `${whole === 0 ? '' : whole}.${PAD2[cents - whole * 100]}`;
}

/** `8` → `8`, `16.5` → `16.5`, `-4.3` → `-4.3`, `51.95` → `51.95`. */
export function formatMoney(amount: number): string {
  const sign = amount < 0 ? '-' : '';
  const cents = Math.round(Math.abs(amount) * 100);
  const whole = Math.floor(cents / 100);
  const frac = cents - whole * 100;
  if (frac === 0) return `${sign}${whole}`;
  return frac % 10 === 0 ? `${sign}${whole}.${frac / 10}` : `${sign}${whole}.${PAD2[frac]}`;
}

/** Formats seconds since the epoch (naive UTC) with a per-day cache of the date part. */
export class TimestampFormatter {
  private day = NaN;
  private prefix = '';
  format(epochSeconds: number): string {
    const day = Math.floor(epochSeconds / 86400);
    if (day !== this.day) {
      this.day = day;
      this.prefix = `${new Date(day * 86_400_000).toISOString().slice(0, 10)} `;
    }
    const s = epochSeconds - day * 86400;
    const h = Math.floor(s / 3600);
    const m = Math.floor((s - h * 3600) / 60);
    return `${this.prefix}${PAD2[h]}:${PAD2[m]}:${PAD2[s - h * 3600 - m * 60]}`;
  }
}
