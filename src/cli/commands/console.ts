import type { Command } from 'commander';
import { withSession } from '../session-command.ts';

export function registerConsole(program: Command): void {
  program
    .command('console')
    .description('serve the web console: pipelines, DAGs, runs, logs, previews, backfills')
    .option('--port <port>', 'port (Cloud Run sets PORT)', process.env.PORT ?? '6789')
    .option('--host <host>', 'interface to listen on', process.env.PORT ? '0.0.0.0' : '127.0.0.1')
    .action(async (flags: { port: string; host: string }, command: Command) =>
      withSession(command, async (session) => {
        const { startConsole } = await import('../../console/server.ts');
        const consoleServer = await startConsole({
          session,
          host: flags.host,
          port: Number(flags.port),
          log: (m: string) => process.stderr.write(`${m}\n`),
        });
        process.stdout.write(`pipekit console on ${consoleServer.url} (Ctrl-C to stop)\n`);
        process.stdout.write(`${describeToken(consoleServer)}\n`);
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await consoleServer.close();
        return 0;
      }),
    );
}

/**
 * The token line `pipekit console` prints. Only a token pipekit generated
 * into the project's own file is shown; one from the environment (the cloud's
 * PIPEKIT_API_TOKEN) or a flag never is: on Cloud Run stdout is Cloud Logging.
 */
export function describeToken(server: { token: string; tokenSource: 'option' | 'environment' | 'file'; tokenFile?: string }): string {
  if (server.tokenSource === 'file') return `write token: ${server.token} (kept in ${server.tokenFile})`;
  return `write token: ${server.tokenSource === 'environment' ? 'PIPEKIT_API_TOKEN' : 'the one given'} (not printed)`;
}
