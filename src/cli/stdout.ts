/**
 * `pipekit logs <run> | head`: when the reader closes the pipe, stop quietly
 * like other Unix tools instead of dying with an EPIPE stack trace.
 */
export function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}
