import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, constants } from 'node:zlib';

const require = createRequire(import.meta.url);

export interface Part { what: string; raw: number; gzip: number; /** listed for reference, not downloaded */ notFetched?: boolean }
export interface Download { system: string; parts: Part[]; raw: number; gzip: number; note: string }

function gz(bytes: Uint8Array): number {
  return gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION }).length;
}

function part(what: string, bytes: Uint8Array): Part {
  return { what, raw: bytes.length, gzip: gz(bytes) };
}

function total(system: string, parts: Part[], note: string): Download {
  return {
    system, parts, note,
    raw: parts.filter((p) => !p.notFetched).reduce((s, p) => s + p.raw, 0),
    gzip: parts.filter((p) => !p.notFetched).reduce((s, p) => s + p.gzip, 0),
  };
}

function pkgDir(name: string): string {
  return path.dirname(require.resolve(`${name}/package.json`));
}

/** What a browser downloads for each system: JS (minified) + wasm, raw and gzip -9. */
export async function downloadSizes(wantPeers: { tfjs: boolean; brain: boolean }): Promise<{ downloads: Download[]; errors: string[] }> {
  const esbuild = await import('esbuild');
  const downloads: Download[] = [];
  const errors: string[] = [];

  // ours: the package's dist bundled and minified into one ESM file by esbuild, + lstm.wasm
  {
    const entry = fileURLToPath(import.meta.resolve('@lstm/wasm'));
    const built = await esbuild.build({
      entryPoints: [entry], bundle: true, minify: true, format: 'esm', platform: 'browser',
      target: 'es2022', write: false, logLevel: 'silent',
    });
    const js = built.outputFiles[0].contents;
    // the package may ship several kernel builds (SIMD, relaxed SIMD, threads); a browser fetches one:
    // count the largest, list the others
    const dist = path.dirname(entry);
    const wasms = readdirSync(dist).filter((f) => f.endsWith('.wasm')).sort()
      .map((f) => part(f, readFileSync(path.join(dist, f))));
    const biggest = wasms.reduce((a, b) => (b.raw > a.raw ? b : a));
    const parts = [part('@lstm/wasm dist, esbuild --bundle --minify (ESM)', js),
      ...wasms.map((w) => (w === biggest ? w : { ...w, notFetched: true }))];
    downloads.push(total('ours', parts,
      `whole public API incl. @assemblyscript/loader; ${wasms.length > 1 ? `a browser fetches one of the ${wasms.length} kernel builds: the largest is counted` : 'one kernel build'}`));
    // what an app that only creates, trains and runs models bundles (the bundler drops the rest)
    const core = await esbuild.build({
      stdin: { contents: `export { createModel } from ${JSON.stringify(entry)};`, resolveDir: dist, loader: 'js' },
      bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent',
    });
    downloads.push(total('ours-core', [part('createModel and the model\'s methods, esbuild --bundle --minify (ESM)', core.outputFiles[0].contents), biggest],
      '`import { createModel } from \'@lstm/wasm\'`: the model class whole (with toONNX/toSafetensors and their writers) and @assemblyscript/loader, + the largest kernel build'));
  }

  if (wantPeers.tfjs) {
    try {
      const tfDir = pkgDir('@tensorflow/tfjs');
      const tfPkg = JSON.parse(readFileSync(path.join(tfDir, 'package.json'), 'utf8')) as { unpkg?: string; jsdelivr?: string };
      const tfMin = tfPkg.jsdelivr ?? tfPkg.unpkg ?? 'dist/tf.min.js';
      const tfJs = readFileSync(path.join(tfDir, tfMin));
      const wDir = pkgDir('@tensorflow/tfjs-backend-wasm');
      const wPkg = JSON.parse(readFileSync(path.join(wDir, 'package.json'), 'utf8')) as { unpkg?: string; jsdelivr?: string };
      const wMin = wPkg.jsdelivr ?? wPkg.unpkg ?? 'dist/tf-backend-wasm.min.js';
      const wJs = readFileSync(path.join(wDir, wMin));
      const simd = readFileSync(path.join(wDir, 'dist', 'tfjs-backend-wasm-simd.wasm'));
      const tfPart = part(`@tensorflow/tfjs ${tfMin} (the CDN bundle)`, tfJs);
      const notFetched = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']
        .map((f) => ({ ...part(f, readFileSync(path.join(wDir, 'dist', f))), notFetched: true }));
      downloads.push(total('tfjs-wasm', [tfPart, part(`@tensorflow/tfjs-backend-wasm ${wMin}`, wJs), part('tfjs-backend-wasm-simd.wasm', simd), ...notFetched],
        'a SIMD browser without cross-origin isolation fetches only the -simd.wasm of the three; tf.min.js also holds the webgl and cpu backends, converter and data'));
      downloads.push(total('tfjs-cpu', [tfPart], 'the cpu backend is inside the union bundle'));
    } catch (e) {
      errors.push(`TF.js sizes: ${(e as Error).message}`);
    }
  }

  if (wantPeers.brain) {
    try {
      const dir = pkgDir('brain.js');
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { browser?: string };
      const file = pkg.browser ?? 'dist/browser.js';
      const src = readFileSync(path.join(dir, file), 'utf8');
      const min = await esbuild.transform(src, { minify: true, loader: 'js' });
      downloads.push(total('brain', [part(`brain.js ${file}, esbuild --minify`, Buffer.from(min.code))], 'UMD browser bundle as published (no minified one ships)'));
    } catch (e) {
      errors.push(`brain.js size: ${(e as Error).message}`);
    }
  }
  return { downloads, errors };
}
