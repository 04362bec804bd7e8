// Opens the citytwin map page in headless Chromium (Debian's, driven by
// playwright-core) and prints a JSON summary on stdout:
//   - with WebGL: waits until MapLibre renders features from the tiles,
//     reads the legend, searches a component code (CITYTWIN_CODE) and a grid
//     code (CITYTWIN_GRID) and reads their popups, then posts a reading
//     (CITYTWIN_READING, with the token CITYTWIN_TOKEN) that raises an alarm
//     and waits until the alarm (CITYTWIN_ALARM) is a feature of the page's
//     alarms layer, through GET /events; saves the screenshot after that.
//   - without WebGL (--disable-webgl --disable-3d-apis): reads the message
//     the page shows instead of the map.
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
const common = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
const launch = (args) => chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: common.concat(args) });
const env = process.env;
const out = { errors: [] };

async function withWebGL() {
  const browser = await launch(['--use-angle=swiftshader', '--enable-unsafe-swiftshader']);
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    page.on('pageerror', (e) => out.errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') out.errors.push(m.text()); });
    await page.goto(url);
    try {
      await page.waitForFunction(() => Number(document.getElementById('status').dataset.features) > 0, null, { timeout: 45000 });
    } finally {
      out.features = await page.evaluate(() => Number(document.getElementById('status').dataset.features));
    }
    out.status = await page.textContent('#status');
    out.legend = await page.textContent('#legend');
    const search = async (q) => {
      await page.evaluate(() => document.querySelectorAll('.maplibregl-popup').forEach((p) => p.remove()));
      await page.fill('#code', q);
      await page.click('#search button');
      await page.waitForFunction(() => document.querySelector('.maplibregl-popup') !== null, null, { timeout: 45000 });
      return page.textContent('.maplibregl-popup');
    };
    if (env.CITYTWIN_GRID) out.gridSearch = await search(env.CITYTWIN_GRID);
    if (env.CITYTWIN_CODE) out.search = await search(env.CITYTWIN_CODE);
    if (env.CITYTWIN_READING) {
      await page.waitForFunction(() => window.citytwinMap.querySourceFeatures('sensors', { sourceLayer: 'sensors' }).length > 0,
        null, { timeout: 45000 });
      const r = await fetch(new URL('/readings', url), {
        method: 'POST', body: env.CITYTWIN_READING,
        headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + env.CITYTWIN_TOKEN },
      });
      out.readingStatus = r.status;
      const start = Date.now();
      await page.waitForFunction((id) => window.citytwinMap.querySourceFeatures('alarms', { sourceLayer: 'alarms' })
        .some((f) => f.properties.id === id), env.CITYTWIN_ALARM, { timeout: 45000 });
      out.alarmMs = Date.now() - start;
      await page.waitForFunction(() => window.citytwinMap.querySourceFeatures('sensors', { sourceLayer: 'sensors' })
        .some((f) => f.properties.alarm === 'open'), null, { timeout: 45000 });
      out.events = Number(await page.evaluate(() => document.getElementById('live').dataset.events));
      await page.waitForTimeout(300);
    }
    await page.screenshot({ path: shot });
  } finally {
    await browser.close();
  }
}

async function withoutWebGL() {
  const browser = await launch(['--disable-webgl', '--disable-3d-apis']);
  try {
    const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById('status').dataset.state !== 'loading', null, { timeout: 45000 });
    out.noWebGL = await page.textContent('#status');
    out.noWebGLState = await page.evaluate(() => document.getElementById('status').dataset.state);
  } finally {
    await browser.close();
  }
}

try {
  await withWebGL();
  await withoutWebGL();
} catch (e) {
  out.errors.push(String(e));
  process.exitCode = 1;
}
console.log(JSON.stringify(out));
