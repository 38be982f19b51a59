/**
 * The part of a Dockerfile the rehearsal executes: stages, and for the final
 * stage its WORKDIR, ENV, COPY, RUN, USER, ENTRYPOINT and CMD. Anything else
 * is kept as text so the report can say what it did not interpret.
 */
import { ConfigError } from '../../src/errors.ts';

export interface CopyInstruction {
  readonly from?: string;
  readonly chown?: string;
  readonly sources: readonly string[];
  readonly dest: string;
  readonly line: number;
}

export interface RunInstruction {
  readonly command: string;
  /** `--mount=…` and other flags: they need BuildKit. */
  readonly flags: readonly string[];
  readonly line: number;
  /** The USER in effect where the RUN stands (undefined: root). */
  readonly user?: string;
}

export interface Stage {
  readonly name?: string;
  readonly base: string;
  workdir: string;
  readonly env: Record<string, string>;
  readonly copies: CopyInstruction[];
  readonly runs: RunInstruction[];
  /** COPY and RUN in the order the stage runs them, for stages the rehearsal builds. */
  readonly steps: ({ kind: 'copy'; copy: CopyInstruction } | { kind: 'run'; run: RunInstruction })[];
  user?: string;
  entrypoint?: string[];
  cmd?: string[];
}

export interface Dockerfile {
  readonly file: string;
  readonly stages: Stage[];
  /** The `# syntax=` directive, if any. */
  readonly syntax?: string;
  /** Instructions that need BuildKit (`RUN --mount`, `COPY --link`, heredocs). */
  readonly buildKitOnly: { line: number; text: string }[];
  readonly runtime: Stage;
}

/** Parses `text` (the Dockerfile at `file`). */
export function parseDockerfile(text: string, file = 'Dockerfile'): Dockerfile {
  const stages: Stage[] = [];
  const buildKitOnly: { line: number; text: string }[] = [];
  const args: Record<string, string> = {};
  const syntax = /^#\s*syntax=(\S+)/m.exec(text)?.[1];
  for (const { line, instruction } of logicalLines(text)) {
    const [, keyword, rest = ''] = /^(\w+)\s*(.*)$/s.exec(instruction) ?? [];
    const upper = keyword?.toUpperCase();
    const stage = stages[stages.length - 1];
    const need = (): Stage => {
      if (!stage)
        throw new ConfigError({ file, key: `line ${line}`, message: `${upper} before FROM`, hint: 'start the Dockerfile with FROM' });
      return stage;
    };
    switch (upper) {
      case 'ARG': {
        const [name, value = ''] = rest.split('=');
        args[name!.trim()] = value.trim();
        break;
      }
      case 'FROM': {
        const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest.trim());
        const base = (m?.[1] ?? rest).replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args[a ?? b] ?? '');
        stages.push({ name: m?.[2], base, workdir: '/', env: {}, copies: [], runs: [], steps: [] });
        break;
      }
      case 'WORKDIR':
        need().workdir = rest.trim().startsWith('/') ? rest.trim() : `${need().workdir.replace(/\/$/, '')}/${rest.trim()}`;
        break;
      case 'ENV':
        Object.assign(need().env, parseEnv(rest));
        break;
      case 'USER':
        need().user = rest.trim();
        break;
      case 'ENTRYPOINT':
        need().entrypoint = execForm(rest);
        break;
      case 'CMD':
        need().cmd = execForm(rest);
        break;
      case 'RUN': {
        const flags = [...rest.matchAll(/^\s*(--\S+)/g)].map((m) => m[1]!);
        let command = rest;
        const flagList: string[] = [];
        for (;;) {
          const m = /^\s*(--\S+)\s+/.exec(command);
          if (!m) break;
          flagList.push(m[1]!);
          command = command.slice(m[0].length);
        }
        if (flagList.length || flags.length) buildKitOnly.push({ line, text: `RUN ${flagList.join(' ')}` });
        if (/<<\w+/.test(command)) buildKitOnly.push({ line, text: 'RUN with a heredoc' });
        const run = { command: command.trim(), flags: flagList, line, user: need().user };
        need().runs.push(run);
        need().steps.push({ kind: 'run', run });
        break;
      }
      case 'COPY':
      case 'ADD': {
        const words = rest.trim().split(/\s+/);
        const flags = words.filter((w) => w.startsWith('--'));
        const paths = words.filter((w) => !w.startsWith('--'));
        if (flags.some((f) => f.startsWith('--link') || f.startsWith('--parents') || f.startsWith('--exclude')))
          buildKitOnly.push({ line, text: `${upper} ${flags.join(' ')}` });
        const flag = (name: string) => flags.find((f) => f.startsWith(`--${name}=`))?.slice(name.length + 3);
        const copy = { from: flag('from'), chown: flag('chown'), sources: paths.slice(0, -1), dest: paths[paths.length - 1]!, line };
        need().copies.push(copy);
        need().steps.push({ kind: 'copy', copy });
        break;
      }
      default:
        break;
    }
  }
  const runtime = stages[stages.length - 1];
  if (!runtime) throw new ConfigError({ file, message: 'has no FROM', hint: 'a Dockerfile needs at least one stage' });
  return { file, stages, syntax, buildKitOnly, runtime };
}

/** Joins continuation lines and drops comments, keeping the first line number. */
function* logicalLines(text: string): Generator<{ line: number; instruction: string }> {
  const lines = text.split(/\r?\n/);
  let current = '';
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (!current && (/^\s*#/.test(raw) || !raw.trim())) continue;
    if (current && /^\s*#/.test(raw)) continue;
    if (!current) start = i + 1;
    if (/\\\s*$/.test(raw)) {
      current += raw.replace(/\\\s*$/, ' ');
      continue;
    }
    current += raw;
    yield { line: start, instruction: current.trim() };
    current = '';
  }
  if (current) yield { line: start, instruction: current.trim() };
}

function parseEnv(rest: string): Record<string, string> {
  const env: Record<string, string> = {};
  const pattern = /(\w+)=("(?:[^"\\]|\\.)*"|\S*)/g;
  if (!rest.includes('=')) {
    const [name, ...value] = rest.trim().split(/\s+/);
    env[name!] = value.join(' ');
    return env;
  }
  for (const m of rest.matchAll(pattern)) env[m[1]!] = m[2]!.startsWith('"') ? JSON.parse(m[2]!) : m[2]!;
  return env;
}

function execForm(rest: string): string[] {
  const trimmed = rest.trim();
  if (trimmed.startsWith('[')) return JSON.parse(trimmed) as string[];
  return ['/bin/sh', '-c', trimmed];
}
