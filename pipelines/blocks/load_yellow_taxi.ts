import { loader } from 'pipekit';
import { YELLOW_TAXI_COLUMNS, YELLOW_TAXI_DATES } from './yellow-taxi-columns.ts';

/** The Zoomcamp's `load_api_data`: the month's CSV.gz, typed on the way in. */
export default loader(async (ctx) => {
  const url = String(ctx.variables.taxi_url);
  const { table, report } = await ctx.io.http.loadWithReport(url, {
    columns: YELLOW_TAXI_COLUMNS,
    parseDates: YELLOW_TAXI_DATES,
    onBadRow: ctx.variables.bad_rows === 'skip' ? 'skip' : 'fail',
  });
  if (report.badRows > 0) ctx.log.warn(`skipped ${report.badRows} malformed rows`, { samples: report.badRowSamples });
  ctx.log.info(`loaded ${table.numRows.toLocaleString('en-US')} trips from ${url}`);
  return table;
}).test('the output is not empty', (output) => {
  if (output.numRows === 0) throw new Error('The output is empty');
});
