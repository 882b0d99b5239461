#!/usr/bin/env node
// Thin entry: the CLI lives in dist/src/cli (built by `npm run build`).
import { main } from '../dist/src/cli/main.js';

main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => {
    process.stderr.write(`homa-emu: internal error: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  },
);
