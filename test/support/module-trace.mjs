// `node --import ./test/support/module-trace.mjs …` appends the URL of every module the process
// loads through the ESM loader to the file named by PIPEKIT_MODULE_TRACE, one a line
// (test/cli/startup-imports.test.ts). CommonJS packages show as the entry their importer loads.
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
import { appendFileSync } from 'node:fs';
const file = process.env.PIPEKIT_MODULE_TRACE;
export async function load(url, context, nextLoad) {
  if (file) appendFileSync(file, url + '\\n');
  return nextLoad(url, context);
}`)}`,
);
