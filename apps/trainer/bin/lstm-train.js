#!/usr/bin/env node
// The lstm-train command; the code is compiled from src/ into dist/ by `npm run build`.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('lstm-train: not built yet; run `npx -y pnpm@10.34.9 build` in the repository first\n');
  process.exit(1);
}
// `lstm-train sample | head`: a reader that stops early is not an error
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const { main } = await import(entry.href);
await main(process.argv.slice(2));
