import { countWhere, transformer, where, type Table } from 'pipekit';

/**
 * The Zoomcamp's `transform_taxi_data`: `data[data['passenger_count'] > 0]`
 * (rows with a null passenger count go too, as in pandas).
 */
export default transformer(async (trips: Table, ctx) => {
  const zero = countWhere(trips, 'passenger_count', (n) => n === 0);
  ctx.log.info(`Preprocessing: rows where passenger count is zero: ${zero}`);
  return where(trips, 'passenger_count', (n) => n > 0);
}).test('there are no rides with zero passengers', (output) => {
  if (countWhere(output, 'passenger_count', (n) => n === 0) > 0) throw new Error('There are rides with zero passengers');
});
