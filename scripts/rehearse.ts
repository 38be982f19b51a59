/**
 * `npm run rehearse`: the deployment `pulumi up` would make, run for real on
 * this machine (see scripts/rehearsal/). Prints the report — each job, each
 * scheduler request, each execution, each IAM decision refused, the checks —
 * and exits 1 when a check fails.
 *
 *   npm run rehearse [-- --taxi-rows N] [--config key=value ...] [--verbose]
 *
 * PostgreSQL: PIPEKIT_TEST_PG_HOST/PORT/USER/PASSWORD if set, else a
 * throwaway cluster started here (as the test suite does) and removed after.
 */
import { parseArgs } from 'node:util';
import startPostgres from '../test/setup/global-postgres.ts';
import { describeError } from '../src/errors.ts';
import { formatReport } from './rehearsal/report.ts';
import { startRehearsal } from './rehearsal/rehearsal.ts';
import { runScenario, SCENARIO_CONFIG } from './rehearsal/scenario.ts';
import { testServer } from '../test/support/postgres.ts';

const { values } = parseArgs({
  options: {
    'taxi-rows': { type: 'string', default: '2000' },
    config: { type: 'string', multiple: true, default: [] },
    verbose: { type: 'boolean', default: false },
  },
});

const config: Record<string, unknown> = { ...SCENARIO_CONFIG };
for (const pair of values.config ?? []) {
  const at = pair.indexOf('=');
  if (at < 1) {
    console.error(`--config ${pair}: expected key=value, e.g. --config domain=pipekit.example.com`);
    process.exit(2);
  }
  config[pair.slice(0, at)] = pair.slice(at + 1);
}

const stopPostgres = await startPostgres();
let exitCode = 1;
try {
  const started = Date.now();
  const rehearsal = await startRehearsal({
    postgres: testServer(),
    config,
    taxiRows: Number(values['taxi-rows']),
    log: values.verbose ? (line) => console.log(line) : undefined,
  });
  try {
    const checks = await runScenario(rehearsal);
    console.log(formatReport(rehearsal, checks));
    console.log(`\nrehearsed in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    exitCode = checks.every((c) => c.ok) ? 0 : 1;
  } finally {
    await rehearsal.close();
  }
} catch (error) {
  console.error(`rehearsal could not run: ${describeError(error)}`);
  exitCode = 2;
} finally {
  await stopPostgres();
}
process.exit(exitCode);
