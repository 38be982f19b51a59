// Run as a separate short-lived process by postgres-server.test.ts: starts the
// project's server, prints the result and exits — the server must outlive it.
import { ensurePostgresRunning } from '../../src/services/postgres-server.ts';

const [root, port] = process.argv.slice(2);
const result = await ensurePostgresRunning({ root: root!, port: Number(port), user: 'pipekit', password: 'secret', database: 'ny_taxi' });
console.log(JSON.stringify(result));
