// Replacing a file so that a crash leaves the old content or the new, never
// a mix: write a temporary file beside it, sync it, rename it over the old.
import { mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Settles once `text` is on disk at `path` (its folder is made if missing). */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}
