import { main } from './program.ts';
import { exitQuietlyOnClosedPipe } from './stdout.ts';

exitQuietlyOnClosedPipe();

const code = await main(process.argv.slice(2));
// Let pending stdout writes finish, then exit: an embedded server or open
// sockets must not keep a finished command alive.
process.exitCode = code;
setImmediate(() => process.exit(code));
