import { exporter, type Table } from 'pipekit';

/** Mage's `export_titanic_clean` (`FileIO().export(df, 'titanic_clean.csv')`), into the lake. */
export default exporter(async (passengers: Table, ctx) => (await ctx.io.lake()).write(passengers, 'titanic_clean.csv'));
