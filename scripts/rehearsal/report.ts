/**
 * The rehearsal's readable report: each job, each scheduler request, each
 * execution, each IAM decision that was refused, grants nothing used, and
 * the checks of the scenario with what failed and why.
 */
import type { Check } from './scenario.ts';
import type { Rehearsal } from './rehearsal.ts';

export function formatReport(r: Rehearsal, checks: readonly Check[] = []): string {
  const out: string[] = [];
  const line = (text = '') => out.push(text);
  const short = (account?: string) => (account ?? '(none)').replace(/@.*$/, '@…');
  line(`pipekit rehearsal · project ${r.graph.project} · region ${r.graph.region} · ${r.graph.resources.length} resources declared`);
  const buildKit = r.tree.dockerfile.buildKitOnly;
  line(
    `image ${r.tree.digest.slice(0, 19)}… · ${r.tree.files} files from the Dockerfile's COPYs · runs as uid ${r.tree.uid} in ${r.tree.workdir}`,
  );
  if (buildKit.length) line(`  BuildKit-only: ${buildKit.map((b) => `line ${b.line} ${b.text}`).join('; ')}`);
  for (const note of r.notes) line(`  ${note}`);

  line();
  line('Cloud Run jobs');
  for (const job of r.deployment.jobs.values()) {
    const secrets = job.container.env.filter((e) => e.secret).map((e) => e.name);
    line(
      `  ${job.name}  as ${short(job.serviceAccount)}  args: ${(job.container.args ?? []).join(' ') || '(image default)'}  env: ${job.container.env.length} (secrets: ${secrets.join(', ') || 'none'})  tasks ${job.taskCount}, parallelism ${job.parallelism || 'max'}, retries ${job.maxRetries}`,
    );
  }
  for (const service of r.deployment.services.values()) {
    line(`  service ${service.name}  as ${short(service.serviceAccount)}  args: ${(service.container.args ?? []).join(' ')}`);
  }

  line();
  line('Cloud Scheduler requests');
  if (r.firings.length === 0) line('  (none fired)');
  for (const f of r.firings) {
    line(`  ${f.status < 300 ? '✔' : '✘'} ${f.scheduler}: ${f.method} ${f.url} as ${short(f.account)} → ${f.status}`);
    line(`      body ${f.body}`);
    if (f.status >= 300) line(`      ${f.response.slice(0, 300)}`);
  }

  line();
  line('Executions');
  if (r.executions.length === 0) line('  (none)');
  for (const e of r.executions) {
    const mark = e.status === 'succeeded' ? '✔' : '✘';
    line(
      `  ${mark} ${e.job}  ${e.args.join(' ') || '(image default)'}  ${e.taskCount} task${e.taskCount === 1 ? '' : 's'}  ${(e.ms / 1000).toFixed(1)}s  ← ${e.source || 'Run API'}`,
    );
    if (e.startError) line(`      did not start: ${e.startError}`);
    for (const t of e.tasks.filter((t) => t.exitCode !== 0))
      line(`      task ${t.index} attempt ${t.attempt} exit ${t.exitCode}: ${lastMeaningfulLine(t.output)}`);
  }
  for (const s of r.services) {
    line(`  ${s.ready ? '✔' : '✘'} service ${s.service} ${s.ready ? 'ready' : `never became ready: ${lastMeaningfulLine(s.output)}`}`);
  }

  line();
  const refused = r.policy.refusals();
  line(`IAM decisions refused (${refused.length} of ${r.policy.decisions.length})`);
  for (const d of refused) line(`  ✘ ${d.account} lacks ${d.permission} on ${d.resource}  (${d.context})`);
  // Project-wide grants reach every resource of their kind: each one should be needed.
  const unused = r.policy.unusedBindings().filter((b) => b.resource === `projects/${r.graph.project}`);
  if (unused.length) {
    line(`Project-wide grants nothing the rehearsal ran used (${unused.length})`);
    for (const b of unused) line(`  · ${b.role} → ${b.member.replace(/@.*$/, '@…')} on ${b.resource}`);
  }
  if (r.policy.unknownRoles.size)
    line(`Roles the rehearsal's table does not know (they granted nothing here): ${[...r.policy.unknownRoles].join(', ')}`);

  if (checks.length) {
    line();
    const failed = checks.filter((c) => !c.ok);
    line(`Checks: ${checks.length - failed.length} of ${checks.length} passed`);
    for (const c of checks) line(`  ${c.ok ? '✔' : '✘'} ${c.name}${c.ok ? '' : `: ${c.detail}`}`);
  }
  return out.join('\n');
}

/** The line of a container's output that says most about why it failed. */
export function lastMeaningfulLine(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const error =
    lines.find((l) => /"severity":"(ERROR|CRITICAL)"/.test(l)) ??
    [...lines].reverse().find((l) => /error|Error|ERR_|refused|denied|✘|failed/.test(l));
  const chosen = error ?? lines[lines.length - 1] ?? '(no output)';
  try {
    const parsed = JSON.parse(chosen) as { message?: string };
    if (parsed.message) return parsed.message.slice(0, 400);
  } catch {
    /* plain text */
  }
  return chosen.slice(0, 400);
}
