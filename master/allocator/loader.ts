// loadAllocator: a built-in policy by name, or a user's from a module file.
//
//   --allocator drf                 built-in (index.ts)
//   --allocator ./my-policy.js      relative to the working directory
//   --allocator /abs/my-policy.ts   TypeScript too, through tsx when it is installed (a devDependency)
//
// The module's default export, or else its `createAllocator` export, is a
// factory `(options: AllocatorOptions) => Allocator` (it may return a
// Promise). Everything is checked at master start, and each failure is an
// InvalidArgument naming the path and what is wrong: no such file, a module
// that fails to load, no factory, or a product missing members of the
// Allocator interface.
import { stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgument, errorMessage } from '../../common/errors.js';
import { ALLOCATOR_METHODS, type Allocator, type AllocatorOptions } from './allocator.js';
import { ALLOCATOR_NAMES, createAllocator, isAllocatorName } from './index.js';

const MODULE_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'];

/** True for what is meant as a file rather than a policy name. */
export function looksLikePath(text: string): boolean {
  return /^\.{0,2}\//.test(text) || MODULE_EXTENSIONS.includes(extname(text));
}

export async function loadAllocator(nameOrPath: string, options: AllocatorOptions = {}): Promise<Allocator> {
  if (isAllocatorName(nameOrPath) || !looksLikePath(nameOrPath)) {
    if (isAllocatorName(nameOrPath)) return createAllocator(nameOrPath, options);
    throw new InvalidArgument(
      `unknown allocator '${nameOrPath}'; known: ${ALLOCATOR_NAMES.join(', ')}, or a module path such as ./my-policy.js`,
    );
  }
  const path = resolve(nameOrPath);
  const where = `--allocator ${nameOrPath}${path !== nameOrPath ? ` (${path})` : ''}`;
  const file = await stat(path).catch(() => null);
  if (!file?.isFile()) throw new InvalidArgument(`${where}: no such file`);
  const module = await importModule(path).catch((err: unknown) => {
    throw new InvalidArgument(`${where}: the module failed to load: ${errorMessage(err)}`, { cause: err });
  });
  const factory = typeof module.default === 'function' ? module.default : module.createAllocator;
  if (typeof factory !== 'function') {
    const exported = Object.keys(module).join(', ') || 'nothing';
    throw new InvalidArgument(`${where}: exports no factory; export default (or export createAllocator) a function (options) => Allocator (it exports: ${exported})`);
  }
  let product: unknown;
  try {
    product = await factory(options);
  } catch (err) {
    throw new InvalidArgument(`${where}: the factory threw: ${errorMessage(err)}`, { cause: err });
  }
  const missing = missingMembers(product);
  if (missing.length > 0) throw new InvalidArgument(`${where}: the allocator it makes lacks ${missing.join(', ')} (see docs/allocator.md)`);
  return product as Allocator;
}

/** The Allocator members `value` lacks: methods, and `name` as a string. */
export function missingMembers(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return ['everything (the factory returned ' + (value === null ? 'null' : typeof value) + ')'];
  const v = value as Record<string, unknown>;
  const missing: string[] = ALLOCATOR_METHODS.filter((m) => typeof v[m] !== 'function').map((m) => `${m}()`);
  if (typeof v.name !== 'string' || v.name === '') missing.unshift('name (a non-empty string)');
  return missing;
}

/** Plain import; a .ts file that Node cannot load (before Node 22's type stripping) goes through tsx's loader. */
async function importModule(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw err;
    return (await (await tsxApi()).tsImport(url, import.meta.url)) as Record<string, unknown>;
  }
}

type TsxApi = Pick<typeof import('tsx/esm/api'), 'tsImport'>;

/**
 * tsx's API, for a TypeScript policy: mesos-ts runs compiled JavaScript and
 * tsx is only a devDependency, so a clear error names the fix when it is missing.
 */
export async function tsxApi(load: () => Promise<TsxApi> = () => import('tsx/esm/api')): Promise<TsxApi> {
  try {
    return await load();
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new Error('a TypeScript module needs tsx, which is not installed here: `npm install tsx` beside mesos-ts, or compile the policy to .js', { cause: err });
  }
}
