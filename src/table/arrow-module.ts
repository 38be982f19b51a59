/**
 * The Apache Arrow module this pipekit runs: the package's own entry when pipekit runs from its
 * sources, the one-file bundle in dist/vendor once built (scripts/build.mjs rewrites this
 * specifier with its imports). The block compiler points a block's `import 'apache-arrow'`
 * here, so a table a block builds is the engine's `Table`.
 */
export const ARROW_MODULE_URL = import.meta.resolve('apache-arrow');
