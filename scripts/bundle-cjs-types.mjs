// Rewrites a package's dist/index.d.cts with jose's types inlined (run after tsup, from the
// package's directory).
//
// Why: jose 6 is ESM-only ("type": "module"), so its .d.ts files are ES modules. A CommonJS
// declaration file that imports them is error TS1479 for TypeScript users on `module: node16` /
// `node18` with `skipLibCheck: false`: a CommonJS file cannot `require` an ES module there. The
// runtime is fine (Node >= 20.19 loads jose with require(esm)); only the types are refused.
// tsup cannot inline a production dependency's types (it marks every dependency external before
// its resolver runs), so this step bundles the declarations again from src/index.ts into a
// CommonJS one that carries its own copy of the few jose types it names (JWTPayload, JWK, ...).
// (From the sources, not from tsup's .d.ts: re-bundling that file mangles its `internals`
// namespace into `export type { type X }`, which TypeScript rejects.) The ESM
// .d.ts keeps importing jose: an ES module may, and ESM users then see jose's own types.
// Every other import (@jwtauth/core, the frameworks) stays an import: those resolve to
// CommonJS-compatible declarations (core's own .d.cts, the frameworks' CommonJS typings).
import { readFile, writeFile } from 'node:fs/promises';
import { rollup } from 'rollup';
import { dts } from 'rollup-plugin-dts';

/** Only jose (and its own internal files) is inlined. */
const inlined = (id) => id === 'jose' || id.startsWith('jose/') || /[\\/]node_modules[\\/]jose[\\/]/.test(id);

const output = 'dist/index.d.cts';
const esmTypes = await readFile('dist/index.d.ts', 'utf8');
if (!/from ['"]jose['"]/.test(esmTypes)) process.exit(0); // nothing to inline: tsup's .d.cts stands

const bundle = await rollup({
  input: 'src/index.ts',
  external: (id, importer) => importer !== undefined && !id.startsWith('.') && !id.startsWith('/') && !inlined(id),
  plugins: [dts({ respectExternal: true, tsconfig: 'tsconfig.json' })],
  onwarn(warning, warn) {
    if (warning.code === 'CIRCULAR_DEPENDENCY') return;
    warn(warning);
  },
});
const { output: chunks } = await bundle.generate({
  format: 'es',
  // jose is MIT-licensed: its notice travels with the declarations copied from it.
  banner: '// Includes type declarations from jose (https://github.com/panva/jose), Copyright (c) Filip Skokan, MIT License.',
});
await bundle.close();
if (chunks.length !== 1) throw new Error(`bundle-cjs-types: expected one declaration chunk, got ${chunks.length}`);
const code = chunks[0].code;
if (/from ['"]jose['"]|import\(['"]jose['"]\)/.test(code)) throw new Error('bundle-cjs-types: jose is still imported by the CommonJS declarations');
await writeFile(output, code);
