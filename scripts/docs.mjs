// The SDK's API reference (npm run docs): Markdown pages in docs/api/, one
// per exported symbol, from the doc comments of the declarations the build
// emits — the very .d.ts files an author installs with `mesos-ts/sdk`.
//
// API Extractor reads dist/framework/sdk/index.d.ts and writes a doc model
// (what is exported, with its comments); API Documenter renders it. Not
// TypeDoc: TypeDoc drives the TypeScript compiler's JavaScript API, which
// our TypeScript 7 (the native compiler) does not have, and takes
// typescript as a peer that must be 5.x or 6.0; API Extractor carries its
// own compiler as an ordinary dependency and needs only our declarations.
//
//   node scripts/docs.mjs              (dist/ rebuilt first when a source is newer)
//   node scripts/docs.mjs --out DIR    elsewhere than docs/api/ (the tests)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig, ExtractorLogLevel } from '@microsoft/api-extractor';

const root = fileURLToPath(new URL('..', import.meta.url));
const outFlag = process.argv.indexOf('--out');
const out = outFlag > 0 && process.argv[outFlag + 1] ? resolve(process.argv[outFlag + 1]) : join(root, 'docs', 'api');

execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), '--if-stale'], { stdio: 'inherit' });
// The doc model is an intermediate file: kept out of dist/ (which ships) and out of the tree.
const model = mkdtempSync(join(tmpdir(), 'mesos-ts-api-'));

const config = ExtractorConfig.prepare({
  packageJsonFullPath: join(root, 'package.json'),
  configObjectFullPath: join(root, 'scripts', 'api-extractor.json'), // not read: where relative paths start from
  configObject: {
    projectFolder: root,
    mainEntryPointFilePath: '<projectFolder>/dist/framework/sdk/index.d.ts',
    compiler: {
      overrideTsconfig: {
        compilerOptions: {
          target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2023'], types: ['node'], strict: true, skipLibCheck: true,
        },
        include: ['dist/framework/sdk/index.d.ts'],
      },
    },
    apiReport: { enabled: false },
    docModel: { enabled: true, apiJsonFilePath: join(model, '<unscopedPackageName>.api.json') },
    dtsRollup: { enabled: false },
    tsdocMetadata: { enabled: false },
    messages: {
      // Types reachable from the SDK but not exported by it (the generated
      // proto types behind OfferOut and friends) are documented where they
      // are used; a comment tag TSDoc does not know is still shown as text.
      extractorMessageReporting: {
        default: { logLevel: ExtractorLogLevel.Warning },
        'ae-forgotten-export': { logLevel: ExtractorLogLevel.None },
        'ae-missing-release-tag': { logLevel: ExtractorLogLevel.None },
      },
      tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
    },
  },
});
const result = Extractor.invoke(config, { localBuild: true, showVerboseMessages: false });
if (!result.succeeded) {
  rmSync(model, { recursive: true, force: true });
  process.stderr.write(`[docs] API Extractor: ${result.errorCount} error(s)\n`);
  process.exit(1);
}

const documenter = join(dirname(createRequire(import.meta.url).resolve('@microsoft/api-documenter/package.json')), 'bin', 'api-documenter');
rmSync(out, { recursive: true, force: true });
try {
  execFileSync(process.execPath, [documenter, 'markdown', '--input-folder', model, '--output-folder', out], { stdio: ['ignore', 'ignore', 'inherit'] });
} finally {
  rmSync(model, { recursive: true, force: true });
}
process.stdout.write(`[docs] API reference in ${out}/index.md (${result.warningCount} warning(s))\n`);
