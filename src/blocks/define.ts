import type { BlockKind } from '../project/model.ts';
import type { BlockContext } from './context.ts';

/** A test on a block's output; throw (e.g. `assert`) to fail it. Like Mage's `@test`. */
export type BlockTest<Out> = (output: Out, ctx: BlockContext) => void | Promise<void>;

export interface BlockOptions {
  /** Shown in `pipekit list` and the console. */
  readonly description?: string;
}

export interface SensorOptions extends BlockOptions {
  /** How often the sensor is polled (default 30 s). */
  readonly pollIntervalMs?: number;
  /**
   * How long it may wait for its condition before the block fails, not
   * retried (default 30 minutes, `DEFAULT_SENSOR_TIMEOUT_MS`): a sensor
   * waits inside the run's process — on Cloud Run, a task billed while it waits.
   */
  readonly timeoutMs?: number;
}

/** A sensor's wait when it sets no `timeoutMs`. */
export const DEFAULT_SENSOR_TIMEOUT_MS = 30 * 60_000;

/** `(upstream 1, upstream 2, …, ctx) => output` */
export type BlockHandler<In extends readonly unknown[], Out> = (...args: [...In, BlockContext]) => Out | Promise<Out>;

const BLOCK = Symbol.for('pipekit.block');

/**
 * A block definition: an immutable value made by `loader`, `transformer`,
 * `exporter`, `sensor` or `conditional`. `.test()` returns a copy with one
 * more test; nothing is registered globally.
 */
export interface BlockDefinition<In extends readonly unknown[] = readonly unknown[], Out = unknown> {
  readonly [BLOCK]: true;
  readonly kind: BlockKind;
  readonly options: BlockOptions & SensorOptions;
  readonly run: BlockHandler<In, Out>;
  readonly tests: readonly { readonly name: string; readonly fn: BlockTest<Out> }[];
  /** A copy of this block with one more test on its output. */
  test(name: string, fn: BlockTest<Out>): BlockDefinition<In, Out>;
}

function define<In extends readonly unknown[], Out>(
  kind: BlockKind,
  options: BlockOptions & SensorOptions,
  run: BlockHandler<In, Out>,
  tests: BlockDefinition<In, Out>['tests'] = [],
): BlockDefinition<In, Out> {
  return Object.freeze({
    [BLOCK]: true as const,
    kind,
    options: Object.freeze({ ...options }),
    run,
    tests: Object.freeze([...tests]),
    test(name: string, fn: BlockTest<Out>) {
      return define(kind, options, run, [...tests, { name, fn }]);
    },
  });
}

type Awaitable<T> = T | Promise<T>;

/** Blocks without upstreams: `loader(async (ctx) => …)`. */
interface SourceFactory<K extends BlockKind, O extends BlockOptions> {
  <Out>(run: (ctx: BlockContext) => Awaitable<Out>): BlockDefinition<[], Out>;
  <Out>(options: O, run: (ctx: BlockContext) => Awaitable<Out>): BlockDefinition<[], Out>;
  readonly kind: K;
}

/**
 * Blocks fed by upstreams: one call signature per number of upstreams (1–4),
 * in ascending order so that in `transformer(async (trips: Table, ctx) => …)`
 * the context is typed without an annotation and the output type flows into
 * `.test()`.
 */
interface UpstreamFactory<K extends BlockKind, O extends BlockOptions> {
  <A, Out>(run: (a: A, ctx: BlockContext) => Awaitable<Out>): BlockDefinition<[A], Out>;
  <A, B, Out>(run: (a: A, b: B, ctx: BlockContext) => Awaitable<Out>): BlockDefinition<[A, B], Out>;
  <A, B, C, Out>(run: (a: A, b: B, c: C, ctx: BlockContext) => Awaitable<Out>): BlockDefinition<[A, B, C], Out>;
  <A, B, C, D, Out>(run: (a: A, b: B, c: C, d: D, ctx: BlockContext) => Awaitable<Out>): BlockDefinition<[A, B, C, D], Out>;
  <A, Out>(options: O, run: (a: A, ctx: BlockContext) => Awaitable<Out>): BlockDefinition<[A], Out>;
  <A, B, Out>(options: O, run: (a: A, b: B, ctx: BlockContext) => Awaitable<Out>): BlockDefinition<[A, B], Out>;
  <A, B, C, Out>(options: O, run: (a: A, b: B, c: C, ctx: BlockContext) => Awaitable<Out>): BlockDefinition<[A, B, C], Out>;
  <A, B, C, D, Out>(options: O, run: (a: A, b: B, c: C, d: D, ctx: BlockContext) => Awaitable<Out>): BlockDefinition<[A, B, C, D], Out>;
  readonly kind: K;
}

function factory<F>(kind: BlockKind): F {
  const make = (a: unknown, b?: unknown) =>
    typeof a === 'function'
      ? define(kind, {}, a as BlockHandler<readonly unknown[], unknown>)
      : define(kind, (a ?? {}) as BlockOptions, b as BlockHandler<readonly unknown[], unknown>);
  return Object.assign(make, { kind }) as unknown as F;
}

/**
 * Loads data: `export default loader(async (ctx) => ctx.io.http.load(url))`.
 * Returns an Arrow table (or any JSON-serialisable value).
 */
export const loader = factory<SourceFactory<'loader', BlockOptions>>('loader');

/** Transforms upstream outputs, passed positionally in `upstream` order, then `ctx`. */
export const transformer = factory<UpstreamFactory<'transformer', BlockOptions>>('transformer');

/** Writes upstream outputs somewhere; may return an `ExportResult` for the run record. */
export const exporter = factory<UpstreamFactory<'exporter', BlockOptions>>('exporter');

/** Polls until it returns true (or its timeout): downstream blocks wait for it. */
export const sensor = factory<SourceFactory<'sensor', SensorOptions>>('sensor');

/** Returns false to skip every block downstream of it (status `skipped`), true to go on. */
export const conditional = factory<UpstreamFactory<'conditional', BlockOptions>>('conditional');

export function isBlockDefinition(value: unknown): value is BlockDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BLOCK] === true;
}
