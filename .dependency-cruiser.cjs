/**
 * `make lint`: the import graph of src/ must have no cycle. Type-only imports count
 * (tsPreCompilationDeps): a cycle through types still ties two modules' designs together
 * and hides which one is the lower layer.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycle: one of these modules must own what the other needs (move it down a layer).',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
