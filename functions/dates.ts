import { z } from 'zod';
import { parseDateArg } from '../src/time/backfill-range.ts';

/** A date field: `2021-01-01`, `2021-01-01T05:00` (UTC) or a full ISO timestamp. */
export const dateField = z.string().transform((text, ctx) => {
  try {
    return parseDateArg(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** Run variables: a JSON object of name → value. */
export const variablesField = z.record(z.string().regex(/^[A-Za-z_][\w]*$/, 'a variable name is letters, digits and _'), z.unknown());
