// loadAllocator with real module files: the shipped example, a TypeScript
// policy built on the hierarchical allocator, and modules that are wrong in
// each way a user's can be.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Resources } from '../../common/resources.js';
import { loadAllocator } from '../../master/allocator/loader.js';
import { missingMembers, tsxApi } from '../../master/allocator/loader.js';

const R = (text: string) => Resources.parse(text);
const fixture = (name: string) => `./test/fixtures/allocator/${name}`;

describe('loadAllocator', () => {
  it('gives the built-in policies by name', async () => {
    expect((await loadAllocator('spread')).name).toBe('spread');
  });

  it('rejects an unknown name, listing the known ones and the module form', async () => {
    await expect(loadAllocator('fastest')).rejects.toThrow(
      "unknown allocator 'fastest'; known: drf, binpack, spread, fifo, random, or a module path such as ./my-policy.js",
    );
  });

  it('loads the shipped example (plain JavaScript, default export) and it allocates round robin', async () => {
    const alloc = await loadAllocator('./examples/allocator/round-robin.js', { minAllocatable: [R('cpus:0.01')] });
    expect(alloc.name).toBe('round-robin');
    for (const id of ['s1', 's2', 's3', 's4']) alloc.addAgent(id, R('cpus:1;mem:512'));
    alloc.addFramework('f', { roles: ['*'] });
    alloc.addFramework('g', { roles: ['*'] });
    expect(alloc.allocate(0).map((d) => `${d.frameworkId}@${d.agentId}`)).toEqual(['f@s1', 'g@s2', 'f@s3', 'g@s4']);
    alloc.recoverResources('f', 's1', R('cpus:1;mem:512'), 30, 0); // f refuses s1 until 30
    expect(alloc.allocate(1)).toEqual([expect.objectContaining({ frameworkId: 'g', agentId: 's1' })]);
  });

  it('loads a TypeScript policy by absolute path, from its createAllocator export', async () => {
    const alloc = await loadAllocator(resolve(fixture('largest-first.ts')), { weights: new Map([['a', 2]]) });
    expect(alloc.name).toBe('largest-first');
    alloc.addAgent('small', R('cpus:1;mem:512'));
    alloc.addAgent('big', R('cpus:8;mem:512'));
    alloc.addFramework('f', { roles: ['a'] });
    expect(alloc.allocate(0).map((d) => d.agentId)).toEqual(['big', 'small']);
    expect(alloc.roles!()[0]).toMatchObject({ role: 'a', weight: 2 }); // the options reached it
  });

  it('names the path and the missing members of a product that is not an Allocator', async () => {
    const err = await loadAllocator(fixture('missing-methods.js')).catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'InvalidArgument' });
    expect((err as Error).message).toMatch(/^--allocator \.\/test\/fixtures\/allocator\/missing-methods\.js \(\/.*missing-methods\.js\): /);
    expect((err as Error).message).toContain(
      'the allocator it makes lacks removeAgent(), addFramework(), removeFramework(), setFrameworkActive(), recoverResources(), suppress(), revive()',
    );
  });

  it('says so when the module exports no factory', async () => {
    await expect(loadAllocator(fixture('no-factory.js'))).rejects.toThrow(/no-factory\.js.*exports no factory.*it exports: policy/);
  });

  it('says so when the file does not exist', async () => {
    await expect(loadAllocator('./no/such/policy.js')).rejects.toThrow(/^--allocator \.\/no\/such\/policy\.js \(.*\): no such file$/);
  });

  it('passes on what a factory throws', async () => {
    await expect(loadAllocator(fixture('throws.js'))).rejects.toThrow(/throws\.js.*the factory threw: this policy needs --weights/);
  });

  it('names the fix when a TypeScript policy needs tsx and tsx is not installed', async () => {
    const notInstalled = () => Promise.reject(Object.assign(new Error("Cannot find package 'tsx'"), { code: 'ERR_MODULE_NOT_FOUND' }));
    await expect(tsxApi(notInstalled)).rejects.toThrow(
      'a TypeScript module needs tsx, which is not installed here: `npm install tsx` beside mesos-ts, or compile the policy to .js',
    );
    expect(typeof (await tsxApi()).tsImport).toBe('function'); // installed here, as a devDependency
  });

  it('checks products member by member', () => {
    expect(missingMembers(null)).toEqual(['everything (the factory returned null)']);
    expect(missingMembers({ name: '' })[0]).toBe('name (a non-empty string)');
  });
});
