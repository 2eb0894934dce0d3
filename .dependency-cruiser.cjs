/**
 * Import rules for voxelgrad, checked by `npm run check:deps` (the first step of `npm test`).
 *
 * Layers, lowest first: util → gpu → kernels → graph → model → data/train → cli → web. A module may import
 * its own layer or a lower one, never a higher one; data and train share a level. src/index.ts, src/node.ts
 * and src/reflect.ts are the package's entry points, above every layer, so nothing inside src imports them.
 * No cycles, type-only imports included (tsPreCompilationDeps), because a type cycle still ties two modules
 * together. An op's contract (types, constants, schedules) lives in the op's own file; its `*.ref.ts`
 * float64 reference imports it from there, and only tests and benches import references.
 */
const LAYERS = [['util'], ['gpu'], ['kernels'], ['graph'], ['model'], ['data', 'train'], ['cli']];
const ENTRY_POINTS = '^src/(index|node|reflect)[.]ts$';

const upward = LAYERS.flatMap((level, i) => {
  const above = LAYERS.slice(i + 1).flat();
  return level.map((layer) => ({
    name: `no-upward-from-${layer}`,
    comment: `src/${layer} may import only ${LAYERS.slice(0, i + 1)
      .flat()
      .join(', ')}; it must not import ${above.join(', ')}, web or an entry point.`,
    severity: 'error',
    from: { path: `^src/${layer}/` },
    to: { path: [`^src/(${above.join('|')})/`, '^web/', ENTRY_POINTS] },
  }));
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Import cycles (type-only ones included) tie modules together so that neither can change alone.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...upward,
    {
      name: 'no-entry-point-import',
      comment: 'src/index.ts, src/node.ts and src/reflect.ts re-export the engine; nothing inside src imports them.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: ENTRY_POINTS },
    },
    {
      name: 'no-cli-to-web',
      comment: 'The page (web/) sits above the CLI; the CLI must not import it.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^web/' },
    },
    {
      name: 'no-production-import-of-reference',
      comment:
        "A *.ref.ts file is a float64 test oracle. Production code takes the contract from the op's own file; only test/ and bench/ (and other references) import references.",
      severity: 'error',
      from: { path: '^(src|web/src)/', pathNot: '[.]ref[.]ts$' },
      to: { path: '[.]ref[.]ts$' },
    },
    {
      name: 'no-node-builtins-below-cli',
      comment: 'The engine below src/cli runs in the page too: Node built-ins only in src/cli, *.node.ts files and src/node.ts.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/cli/', '[.]node[.]ts$', '^src/node[.]ts$'] },
      to: { dependencyTypes: ['core'] },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    // scripts/*.mjs run the built package (dist/); it is build output, not source to check.
    exclude: { path: ['^([.][.]/)*dist/', '^bench/results/'] },
  },
};
