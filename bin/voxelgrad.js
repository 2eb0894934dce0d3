#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run automatically by `npm install`).
import { main } from '../dist/src/cli/main.js';
main(process.argv.slice(2)).then((code) => process.exit(code ?? 0));
