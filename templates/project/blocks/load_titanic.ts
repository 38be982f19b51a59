import { loader } from 'pipekit';

/** Mage's example_pipeline loader: Titanic, types inferred like pandas' read_csv. */
export default loader(async (ctx) => ctx.io.http.load(String(ctx.variables.titanic_url))).test('the output is defined', (output) => {
  if (!output || output.numRows === 0) throw new Error('The output is undefined');
});
