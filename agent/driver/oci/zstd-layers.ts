// zstd-compressed layers (application/vnd.oci.image.layer.v1.tar+zstd),
// which Debian's umoci 0.4.7 refuses ("blob is not correct mediatype"). An
// image with such layers is unpacked from a layout of its own beside the
// store's temporary folder: each zstd layer decompressed once by the zstd
// command into a plain tar blob named by its digest (which is the diff_id the
// image's config already lists), every other blob a symlink to the original,
// and a manifest naming the plain blobs. The image's digest in the store stays
// the original manifest's.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ZSTD_LAYER = 'application/vnd.oci.image.layer.v1.tar+zstd';
const PLAIN_LAYER = 'application/vnd.oci.image.layer.v1.tar';

interface Descriptor { mediaType?: string; digest: string; size?: number; annotations?: Record<string, string> }
interface Manifest { mediaType?: string; config?: Descriptor; layers?: Descriptor[] }

/**
 * The layout umoci should unpack the image `manifestDigest` of `layout` from, and its tag there:
 * `layout` itself when no layer is zstd, else one written under `scratch` with plain layers.
 */
export async function unpackableLayout(layout: string, manifestDigest: string, tag: string, scratch: string, blobPath: (layout: string, digest: string) => string): Promise<{ layout: string; tag: string }> {
  const manifest = JSON.parse(await readFile(blobPath(layout, manifestDigest), 'utf8')) as Manifest;
  if (!(manifest.layers ?? []).some((l) => l.mediaType === ZSTD_LAYER)) return { layout, tag };
  const out = join(scratch, 'layout');
  const blobs = join(out, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const linked = async (d: Descriptor) => {
    await symlink(blobPath(layout, d.digest), join(blobs, d.digest.split(':')[1]!)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    return d;
  };
  const layers: Descriptor[] = [];
  for (const layer of manifest.layers ?? []) layers.push(layer.mediaType === ZSTD_LAYER ? await decompressed(blobPath(layout, layer.digest), blobs, layer) : await linked(layer));
  if (manifest.config) await linked(manifest.config);
  const plain = Buffer.from(JSON.stringify({ ...manifest, layers }));
  const plainDigest = await written(blobs, plain);
  await writeFile(join(out, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(out, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: plainDigest, size: plain.length, annotations: { 'org.opencontainers.image.ref.name': 'plain' } }],
  }));
  return { layout: out, tag: 'plain' };
}

/** The zstd layer at `path` as a plain tar blob in `blobs`; its descriptor. */
async function decompressed(path: string, blobs: string, layer: Descriptor): Promise<Descriptor> {
  const temp = join(blobs, `.${layer.digest.split(':')[1]}.tar`);
  await run('zstd', ['-dqf', '-o', temp, '--', path]);
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(temp)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  const hex = hash.digest('hex');
  await rename(temp, join(blobs, hex));
  return { ...layer, mediaType: PLAIN_LAYER, digest: `sha256:${hex}`, size };
}

async function written(blobs: string, bytes: Buffer): Promise<string> {
  const hex = createHash('sha256').update(bytes).digest('hex');
  await writeFile(join(blobs, hex), bytes);
  return `sha256:${hex}`;
}
