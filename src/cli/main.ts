import { settleNativeWork } from '../process/in-flight.ts';
import { main } from './program.ts';
import { exitQuietlyOnClosedPipe } from './stdout.ts';

exitQuietlyOnClosedPipe();

const code = await main(process.argv.slice(2));
// A cancelled block may have left a DuckDB statement running: exiting under
// it deadlocks, so it is interrupted and waited for first (process/in-flight.ts).
await settleNativeWork();
// Let pending stdout writes finish, then exit: an embedded server or open
// sockets must not keep a finished command alive.
process.exitCode = code;
setImmediate(() => process.exit(code));
