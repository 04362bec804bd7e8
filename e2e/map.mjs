// Opens the citytwin map page in headless Chromium (Debian's, driven by
// playwright-core), waits until MapLibre reports rendered features from the
// tile source, saves a screenshot and prints a JSON summary on stdout.
//
//   node e2e/map.mjs URL SCREENSHOT.png
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'web', 'package.json'));
const { chromium } = require('playwright-core');

const [url, shot] = process.argv.slice(2);
if (!url || !shot) {
  console.error('usage: node e2e/map.mjs URL SCREENSHOT.png');
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-quic',
    '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(url);
  let features = 0;
  try {
    await page.waitForFunction(() => Number(document.getElementById('status').dataset.features) > 0, null, { timeout: 45000 });
  } finally {
    features = await page.evaluate(() => Number(document.getElementById('status').dataset.features));
    await page.screenshot({ path: shot });
  }
  const status = await page.textContent('#status');
  // Search a code and fly to it: the page asks /parts/{code} and moves.
  let search = null;
  const code = process.env.CITYTWIN_CODE;
  if (code) {
    await page.fill('#code', code);
    await page.click('#search button');
    await page.waitForFunction(() => document.querySelector('.maplibregl-popup') !== null, null, { timeout: 20000 });
    search = await page.textContent('.maplibregl-popup');
  }
  console.log(JSON.stringify({ features, status, errors, search }));
} catch (e) {
  console.log(JSON.stringify({ features: 0, errors: errors.concat(String(e)) }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
