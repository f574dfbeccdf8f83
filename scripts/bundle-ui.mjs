// Builds the embedded web UI: `node scripts/bundle-ui.mjs <ui source dir> <output dir>`.
// esbuild bundles ui/app.js with its npm dependencies (package-lock.json pins them) into one
// minified module, and style.css with the highlight/KaTeX styles it imports; the HTML pages,
// the PWA manifest and the icon are copied as they are. The output folder is what
// `mmojo-server pack --ui` puts into the executable; nothing in it is committed.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const [source, output] = process.argv.slice(2).map((p) => p && resolve(p));
if (!source || !output) {
  console.error('usage: node scripts/bundle-ui.mjs <ui source dir> <output dir>');
  process.exit(2);
}
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.error('bundle-ui: esbuild is not installed; run scripts/setup.sh (it runs `npm ci`)');
  process.exit(1);
}

rmSync(output, { recursive: true, force: true });
mkdirSync(output, { recursive: true });
const started = Date.now();
const result = await esbuild.build({
  entryPoints: { app: join(source, 'app.js'), style: join(source, 'style.css') },
  outdir: output,
  bundle: true,
  format: 'esm',
  minify: true,
  // Browsers of the last few years: module scripts, optional chaining, top-level await.
  target: ['chrome109', 'firefox115', 'safari16'],
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});
// Static files: pages, manifest, icons (everything that is not a module or a stylesheet).
for (const name of readdirSync(source)) {
  const path = join(source, name);
  if (statSync(path).isDirectory() || /\.(js|mjs|css)$/.test(name)) continue;
  cpSync(path, join(output, name));
}
for (const required of ['index.html', 'app.js', 'style.css']) {
  if (!existsSync(join(output, required))) throw new Error(`bundle-ui: ${required} was not produced`);
}
const sizes = Object.entries(result.metafile.outputs).map(([file, info]) => `${file.split('/').pop()} ${info.bytes} B`);
console.log(`bundle-ui: ${sizes.join(', ')} in ${Date.now() - started} ms`);
