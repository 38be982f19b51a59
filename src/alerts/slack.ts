import type { BlockRunRecord, RunRecord } from '../runs/model.ts';

export interface RunAlertOptions {
  /** ALERT_WEBHOOK_URL: a Slack incoming webhook (or anything that takes Slack's JSON). */
  readonly webhookUrl: string;
  /** CONSOLE_URL: links the message to the run's page. */
  readonly consoleUrl?: string;
  /** Also notify succeeded runs (default: only failed and cancelled). */
  readonly onSuccess?: boolean;
  readonly timeoutMs?: number;
  /** Where a webhook failure is reported (default stderr). */
  readonly log?: (message: string) => void;
  readonly fetch?: typeof fetch;
}

const ICON: Record<string, string> = { succeeded: ':white_check_mark:', failed: ':x:', cancelled: ':no_entry_sign:' };

/** Slack's message JSON for a finished run: a `text` fallback and Block Kit `blocks`. */
export function runMessage(run: RunRecord, blocks: readonly BlockRunRecord[], consoleUrl?: string): { text: string; blocks: unknown[] } {
  const link = consoleUrl ? `${consoleUrl.replace(/\/+$/, '')}/#/runs/${encodeURIComponent(run.id)}` : null;
  const seconds = run.startedAt && run.finishedAt ? ((run.finishedAt.getTime() - run.startedAt.getTime()) / 1000).toFixed(1) : null;
  const title = `${ICON[run.status] ?? ''} ${run.pipeline} ${run.status}`.trim();
  const text = `${title}: run ${run.id} for ${run.executionDate.toISOString()}${seconds ? ` in ${seconds}s` : ''}${link ? ` — ${link}` : ''}`;
  const failed = blocks.filter((b) => b.status === 'failed');
  const fields = [
    `*Run*\n${link ? `<${link}|${escape(run.id)}>` : escape(run.id)}`,
    `*Execution date*\n${run.executionDate.toISOString()}`,
    `*Trigger*\n${escape(run.trigger)}${run.backfillId ? ` (backfill ${escape(run.backfillId)})` : ''}`,
    `*Blocks*\n${blocks.filter((b) => b.status === 'succeeded').length}/${blocks.length} succeeded`,
  ];
  const slackBlocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: title.replace(/:[a-z_]+:\s*/, '') } },
    { type: 'section', fields: fields.map((f) => ({ type: 'mrkdwn', text: f })) },
  ];
  if (run.error || failed.length) {
    const lines = failed.length
      ? failed.map(
          (b) =>
            `• \`${escape(b.block)}\` after ${b.attempts} attempt${b.attempts === 1 ? '' : 's'}: ${escape(truncate(b.error ?? 'failed', 300))}`,
        )
      : [escape(truncate(run.error ?? '', 500))];
    slackBlocks.push({ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } });
  }
  if (link)
    slackBlocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in console' }, url: link }] });
  return { text, blocks: slackBlocks };
}

/**
 * Posts a finished run to a webhook. Never throws: a broken webhook is
 * logged and the run's outcome stays what it was. Returns whether it was sent.
 */
export async function notifyRunFinished(run: RunRecord, blocks: readonly BlockRunRecord[], options: RunAlertOptions): Promise<boolean> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  if (run.status === 'succeeded' && !options.onSuccess) return false;
  if (run.status !== 'succeeded' && run.status !== 'failed' && run.status !== 'cancelled') return false;
  try {
    const response = await (options.fetch ?? fetch)(options.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(runMessage(run, blocks, options.consoleUrl)),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    if (!response.ok) {
      log(
        `pipekit: the alert webhook answered ${response.status} ${response.statusText} for run ${run.id}: ${truncate(await response.text().catch(() => ''), 200)}`,
      );
      return false;
    }
    return true;
  } catch (error) {
    // The URL may hold a secret token: only its host goes to the log.
    log(`pipekit: could not post the alert for run ${run.id} to ${hostOf(options.webhookUrl)}: ${(error as Error).message}`);
    return false;
  }
}

/** Slack mrkdwn control characters. */
function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(an invalid URL)';
  }
}
