// `mesos-ts image import FILE`: puts an image archive where the mesos
// containerizer's provisioner looks (--docker_registry), after checking it.
//   a `docker save` archive (manifest.json)   -> <registry>/<repo>:<tag>.tar (copied; image-store.ts imports it once)
//   an OCI image archive (oci-layout)         -> <registry>/<repo>:<tag>/    (unpacked: an OCI layout)
// The name comes from --name, else from the archive (docker save's RepoTags,
// an OCI index's io.containerd.image.name). Nothing is written unless every
// check passed; the new copy replaces an older one in one rename.
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { InvalidArgument } from '../../../common/errors.js';
import { parseReference } from './image-store.js';

const run = promisify(execFile);

export interface Imported {
  /** repo:tag, as tasks name it. */
  readonly name: string;
  /** What was written in the registry. */
  readonly path: string;
  readonly format: 'docker-archive' | 'oci-archive';
}

export async function importImage(file: string, registry: string, name?: string): Promise<Imported> {
  if (!existsSync(file) || !statSync(file).isFile()) throw new InvalidArgument(`image archive '${file}' is not a file`);
  const entries = await listTar(file);
  const bad = entries.find((e) => e.startsWith('/') || e.split('/').includes('..'));
  if (bad !== undefined) throw new InvalidArgument(`image archive '${file}' holds a path outside itself: '${bad}'`);
  if (entries.includes('manifest.json')) return importDockerArchive(file, entries, registry, name);
  if (entries.includes('oci-layout') && entries.includes('index.json')) return importOciArchive(file, registry, name);
  throw new InvalidArgument(`'${file}' is a tar archive but not an image: no manifest.json (docker save) nor oci-layout and index.json (OCI archive)`);
}

async function importDockerArchive(file: string, entries: readonly string[], registry: string, name?: string): Promise<Imported> {
  const manifest = parseJson(await tarFile(file, 'manifest.json'), file, 'manifest.json') as { Config?: string; RepoTags?: string[] | null; Layers?: string[] }[];
  if (!Array.isArray(manifest) || manifest.length === 0) throw new InvalidArgument(`image archive '${file}': manifest.json lists no image`);
  const image = manifest[0]!;
  const missing = [image.Config, ...(image.Layers ?? [])].find((p) => !p || !entries.includes(p));
  if (missing !== undefined) throw new InvalidArgument(`image archive '${file}': manifest.json names '${missing ?? '(no config)'}', which the archive does not hold`);
  // Docker and skopeo write docker.io/ (and library/) before names of Docker Hub's; tasks name them without.
  const { repo, tag } = reference(name ?? image.RepoTags?.[0]?.replace(/^docker\.io\/(library\/)?/, ''), file);
  const path = join(registry, `${repo}:${tag}.tar`);
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await copyFile(file, temp);
  await rename(temp, path);
  return { name: `${repo}:${tag}`, path, format: 'docker-archive' };
}

async function importOciArchive(file: string, registry: string, name?: string): Promise<Imported> {
  const index = parseJson(await tarFile(file, 'index.json'), file, 'index.json') as { manifests?: { annotations?: Record<string, string> }[] };
  const named = index.manifests?.map((m) => m.annotations?.['io.containerd.image.name']).find((n) => n !== undefined);
  const { repo, tag } = reference(name ?? named, file);
  const path = join(registry, `${repo}:${tag}`);
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await rm(temp, { recursive: true, force: true });
  await mkdir(temp);
  try {
    await run('tar', ['-x', '--no-same-owner', '--no-same-permissions', '-f', file, '-C', temp]);
    if (!existsSync(join(temp, 'oci-layout'))) throw new InvalidArgument(`image archive '${file}' did not unpack to an OCI layout`);
    await rm(path, { recursive: true, force: true });
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
  return { name: `${repo}:${tag}`, path, format: 'oci-archive' };
}

function reference(name: string | undefined, file: string): { repo: string; tag: string } {
  if (!name) throw new InvalidArgument(`image archive '${file}' names no image: give it one with --name REPO[:TAG]`);
  try {
    return parseReference(name);
  } catch (err) {
    throw new InvalidArgument(`--name: ${(err as Error).message}`);
  }
}

async function listTar(file: string): Promise<string[]> {
  try {
    const { stdout } = await run('tar', ['-tf', file], { maxBuffer: 64 * 1024 * 1024 });
    return stdout.split('\n').filter((l) => l !== '').map((l) => l.replace(/^\.\//, '').replace(/\/$/, ''));
  } catch (err) {
    throw new InvalidArgument(`'${file}' is not a tar archive (${lastLine(err)})`);
  }
}

async function tarFile(file: string, member: string): Promise<string> {
  for (const candidate of [member, `./${member}`]) {
    const out = await run('tar', ['-xOf', file, candidate], { maxBuffer: 16 * 1024 * 1024 }).catch(() => null);
    if (out) return out.stdout;
  }
  throw new InvalidArgument(`image archive '${file}': cannot read ${member}`);
}

function parseJson(text: string, file: string, member: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidArgument(`image archive '${file}': ${member} is not JSON (${(err as Error).message})`);
  }
}

function lastLine(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr?.trim() || e.message || String(err)).split('\n').at(-1) ?? '';
}

