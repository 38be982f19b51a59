/**
 * Named moments where the fault-injection suite (test/faults) has the
 * process signal itself, so that a real SIGKILL, SIGINT or SIGTERM lands at
 * a known point of a write instead of wherever a timer happens to fall:
 *
 *   PIPEKIT_FAILPOINT=<name>[@<nth time it is reached>]:<SIGKILL|SIGINT|SIGTERM>
 *
 * e.g. `lake.partition.replaced@5:SIGKILL`. Without the variable a point
 * costs one comparison.
 */
interface Spec {
  readonly name: string;
  readonly nth: number;
  readonly signal: NodeJS.Signals;
}

const spec = parse(process.env.PIPEKIT_FAILPOINT);
let reached = 0;

/** Signals this process when `name` is the armed point and this is its nth time. */
export function failpoint(name: string): void {
  if (spec?.name !== name) return;
  if (++reached === spec.nth) process.kill(process.pid, spec.signal);
}

function parse(text: string | undefined): Spec | undefined {
  const m = /^([\w.-]+)(?:@(\d+))?:(SIGKILL|SIGINT|SIGTERM)$/.exec(text ?? '');
  return m ? { name: m[1], nth: Number(m[2] ?? 1), signal: m[3] as NodeJS.Signals } : undefined;
}
