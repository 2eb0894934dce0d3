#!/usr/bin/env node
// Renders a voxelgrad HTML report in headless Chromium and saves a full-page PNG, to check by eye that a
// person can read it. Usage:
//   node scripts/screenshot-report.mjs <report.html> <out.png> [--width 1200] [--scale 1]
// Chromium: $VOXELGRAD_CHROMIUM or /usr/bin/chromium. The page is loaded from file:// with every
// network request blocked, which also proves the report is self-contained (a blocked request fails).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer';

function usage(msg) {
  if (msg) process.stderr.write(`screenshot-report: ${msg}\n`);
  process.stderr.write('usage: node scripts/screenshot-report.mjs <report.html> <out.png> [--width 1200] [--scale 1]\n');
  process.exit(2);
}

const args = process.argv.slice(2);
const positional = [];
let width = 1200;
let scale = 1;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--width') width = Number(args[++i]);
  else if (args[i] === '--scale') scale = Number(args[++i]);
  else if (args[i] === '--help' || args[i] === '-h') usage();
  else positional.push(args[i]);
}
if (positional.length !== 2) usage('need an input HTML file and an output PNG path');
if (!(width >= 320 && width <= 4000)) usage(`--width must be 320–4000, got ${width}`);
if (!(scale > 0 && scale <= 4)) usage(`--scale must be in (0, 4], got ${scale}`);
const [input, output] = positional.map((p) => resolve(p));

const userDataDir = mkdtempSync(join(tmpdir(), 'voxelgrad-chromium-'));
const executablePath = process.env.VOXELGRAD_CHROMIUM || '/usr/bin/chromium';
let browser;
let exitCode = 0;
try {
  browser = await puppeteer.launch({
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${userDataDir}`,
    ],
  });
  const page = await browser.newPage();
  await page.setViewport({ width, height: 900, deviceScaleFactor: scale });
  const pageUrl = pathToFileURL(input).href;
  const blocked = [];
  await page.setRequestInterception(true);
  page.on('request', (req) => {
    const url = req.url();
    if (url === pageUrl || url.startsWith('data:')) req.continue();
    else {
      blocked.push(url);
      req.abort();
    }
  });
  const consoleErrors = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  await page.goto(pageUrl, { waitUntil: 'load', timeout: 60_000 });
  const broken = await page.evaluate(() =>
    Array.from(document.images)
      .filter((img) => !img.complete || img.naturalWidth === 0)
      .map((img) => img.alt || img.src.slice(0, 40)),
  );
  await page.screenshot({ path: output, fullPage: true });
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  process.stdout.write(`wrote ${output} (${width}×${height} CSS px, scale ${scale})\n`);
  if (blocked.length) {
    process.stderr.write(`report is not self-contained: blocked ${blocked.length} request(s): ${blocked.slice(0, 5).join(', ')}\n`);
    exitCode = 1;
  }
  if (broken.length) {
    process.stderr.write(`${broken.length} image(s) failed to decode: ${broken.slice(0, 5).join(', ')}\n`);
    exitCode = 1;
  }
  if (consoleErrors.length) process.stderr.write(`console errors: ${consoleErrors.join(' | ')}\n`);
} catch (err) {
  process.stderr.write(`screenshot-report: ${err instanceof Error ? err.message : String(err)}\n`);
  exitCode = 1;
} finally {
  if (browser) await browser.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(exitCode);
