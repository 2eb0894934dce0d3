/** Puppeteer must never download a browser: voxelgrad drives the system Chromium. */
module.exports = { skipDownload: true };
