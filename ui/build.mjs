// build.mjs — the web UI's build: src/app.js (with uPlot) bundled and
// minified by esbuild into OUT/app.js and OUT/app.css, src/index.html
// copied. Usage: node build.mjs OUT [INSTALL_DIR]
// (the Makefile runs `npm ci` in build/ui and passes that directory, so
// the source tree keeps no installed packages; default: ui/ itself).
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] || join(here, 'dist'));
const inst = resolve(process.argv[3] || here);
const { build } = createRequire(join(inst, 'package.json'))('esbuild');
const nodePaths = [join(inst, 'node_modules')];
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, 'src/app.js')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  outfile: join(out, 'app.js'),
  nodePaths,
  logLevel: 'warning',
  legalComments: 'none',
});
copyFileSync(join(here, 'src/index.html'), join(out, 'index.html'));
