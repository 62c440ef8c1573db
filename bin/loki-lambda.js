#!/usr/bin/env node
// Thin entry: the CLI is compiled to dist/ on `npm install` (prepare) and by `npm pack`.
import { run } from '../dist/src/cli.js';

process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
