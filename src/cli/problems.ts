import pc from 'picocolors';

/**
 * What `validate` and `compile` found wrong, one ✖ line each on stderr, and exit code 2 (bad
 * input, as for every usage error). False when there is nothing to report.
 */
export function reportProblems(problems: readonly string[]): boolean {
  if (problems.length === 0) return false;
  process.stderr.write(`${problems.map((p) => `${pc.red('✖')} ${p}`).join('\n')}\n`);
  process.exitCode = 2;
  return true;
}
