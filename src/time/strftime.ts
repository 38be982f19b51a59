/**
 * strftime for the directives pipelines use in object keys and table names
 * (`{{ execution_date | date('%Y/%m/%d') }}`), always in UTC so a key never
 * depends on the machine's time zone.
 */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export function strftime(date: Date, format: string): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return format.replace(/%([a-zA-Z%])/g, (whole, d: string) => {
    switch (d) {
      case 'Y':
        return String(date.getUTCFullYear());
      case 'y':
        return pad(date.getUTCFullYear() % 100);
      case 'm':
        return pad(date.getUTCMonth() + 1);
      case 'd':
        return pad(date.getUTCDate());
      case 'H':
        return pad(date.getUTCHours());
      case 'M':
        return pad(date.getUTCMinutes());
      case 'S':
        return pad(date.getUTCSeconds());
      case 'f':
        return pad(date.getUTCMilliseconds() * 1000, 6);
      case 'j':
        return pad(dayOfYear(date), 3);
      case 'b':
        return MONTHS[date.getUTCMonth()]!;
      case 'a':
        return DAYS[date.getUTCDay()]!;
      case 'F':
        return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
      case 'T':
        return `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
      case 's':
        return String(Math.floor(date.getTime() / 1000));
      case '%':
        return '%';
      default:
        throw new Error(`unsupported date directive ${whole} in ${JSON.stringify(format)}`);
    }
  });
}

function dayOfYear(date: Date): number {
  return Math.floor((date.getTime() - Date.UTC(date.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
}
