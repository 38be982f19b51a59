/**
 * One JSON line per entry on stdout: Cloud Run functions send it to Cloud
 * Logging with `severity` and `message` recognised and the rest as fields.
 */
export function logLine(severity: 'INFO' | 'WARNING' | 'ERROR', message: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ severity, message, ...fields })}\n`);
}
