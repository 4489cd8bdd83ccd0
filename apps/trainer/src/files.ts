import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';

let pendingTemp: string | null = null;

/**
 * Writes a file so that readers only ever see the old or the complete new content:
 * the data goes to a temporary file beside it, is flushed to disk, then renamed over.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  pendingTemp = tmp;
  try {
    const fd = openSync(tmp, 'w');
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    pendingTemp = null;
  }
}

/** Removes a temporary file a write left when the process is stopped mid-write. */
export function removePendingTemp(): void {
  if (pendingTemp) rmSync(pendingTemp, { force: true });
  pendingTemp = null;
}
