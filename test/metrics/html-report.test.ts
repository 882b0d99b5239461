import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { htmlReport } from '../../src/metrics/html-report.js';
import { allPlots, renderSvg, type PlotVariant } from '../../src/metrics/plots.js';
import { fakeRun } from './plot-fixtures.js';

const A = { label: 'steering=gen2', run: fakeRun(1, 0.8) };
const B = { label: 'steering=gen3', run: fakeRun(2, 0.6) };
const PLOT_IDS = ['plot-slowdown', 'plot-short_rtt_ccdf', 'plot-core_roles', 'plot-handoff_cdf', 'plot-lock_wait'];

async function report(vs: ReadonlyArray<typeof A>): Promise<string> {
  const rendered = [];
  for (const plot of allPlots(vs as PlotVariant[])) rendered.push({ plot, svg: await renderSvg(plot.spec) });
  return htmlReport('test report', vs, rendered);
}

describe('htmlReport', () => {
  it('is one self-contained page: a summary row per variant, the five plots inline, no script or external resource', async () => {
    const html = await report([A, B]);
    for (const id of PLOT_IDS) expect(html).toContain(`<figure id="${id}">`);
    expect(html.match(/<svg /g)?.length).toBe(5);
    expect(html).not.toMatch(/<script|<link|src="http/);
    expect(html.match(/<tr><td>steering=gen[23]<\/td>/g)?.length).toBe(2);
    expect(html).toContain('<td>h0.c0</td>');
  }, 30_000);
});

/**
 * The report in a real browser: headless Chromium (the Debian package, /usr/bin/chromium, or
 * CHROMIUM_PATH) driven by puppeteer-core. Outside CI a machine without Chromium skips this
 * test and says why; in CI (CI set) a missing Chromium fails it.
 */
const chromium = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const haveChromium = existsSync(chromium);
const inCi = process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false';
if (!haveChromium && !inCi) {
  process.stderr.write(`html-report browser test SKIPPED: no Chromium at ${chromium} (apt-get install chromium, or set CHROMIUM_PATH); it runs in CI\n`);
}

describe('htmlReport in headless Chromium', () => {
  it.skipIf(!haveChromium && !inCi)(`shows every plot (non-blank where each plot is) with no console error${haveChromium ? '' : ` [needs Chromium at ${chromium}]`}`, async () => {
    expect(haveChromium, `Chromium is required in CI: none at ${chromium}`).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'homa-emu-html-'));
    const file = join(dir, 'report.html');
    writeFileSync(file, await report([A, B]));
    const { launch } = await import('puppeteer-core');
    const browser = await launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.setViewport({ width: 1000, height: 800, deviceScaleFactor: 1 });
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
      const shot = Buffer.from(await page.screenshot({ fullPage: true, type: 'png' })).toString('base64');
      writeFileSync(join(dir, 'report.png'), Buffer.from(shot, 'base64'));
      // Where each plot is on the page, then the share of non-white pixels there in the screenshot
      // (decoded by the browser itself: no PNG library needed).
      const inked = await page.evaluate(async (png: string, ids: string[]) => {
        const img = new Image();
        img.src = `data:image/png;base64,${png}`;
        await img.decode();
        const canvas = document.createElement('canvas');
        canvas.width = img.width;
        canvas.height = img.height;
        const ctx = canvas.getContext('2d')!;
        ctx.drawImage(img, 0, 0);
        return ids.map((id) => {
          const svg = document.querySelector(`#${id} svg`);
          if (svg === null) return { id, share: -1, w: 0, h: 0 };
          const r = svg.getBoundingClientRect();
          const x = Math.round(r.left + window.scrollX), y = Math.round(r.top + window.scrollY);
          const w = Math.round(r.width), h = Math.round(r.height);
          if (w < 1 || h < 1) return { id, share: 0, w, h };
          const px = ctx.getImageData(x, y, w, h).data;
          let ink = 0;
          for (let i = 0; i < px.length; i += 4) if (px[i]! < 240 || px[i + 1]! < 240 || px[i + 2]! < 240) ink++;
          return { id, share: ink / (w * h), w, h };
        });
      }, shot, PLOT_IDS);
      expect(errors).toEqual([]);
      for (const p of inked) {
        expect(p.w, p.id).toBeGreaterThan(200);
        expect(p.h, p.id).toBeGreaterThan(100);
        // Axes, labels and curves: a blank plot would be (almost) all white.
        expect(p.share, `${p.id}: share of non-white pixels`).toBeGreaterThan(0.02);
      }
      // The page beside the plots is white: a screenshot of a failed render is not counted as ink.
      expect(inked.length).toBe(5);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
