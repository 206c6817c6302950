// Shared by the page checks (select_page.mjs, atlas_page.mjs): open a page written by render/vega_page in headless
// Debian Chromium (playwright-core), wait until Vega has embedded it, check that its scatter draws every point
// of the page's data, run the page's own checks, and fail on any page error.
import { chromium } from 'playwright-core';
import { pathToFileURL } from 'node:url';

export const fail = (msg) => { console.log('FAIL: ' + msg); process.exit(1); };

// check(page, points, drawn) runs the page-specific checks; points: spec.data.values.
export async function check_vega_page(page_path, viewport, check) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu'],
  });
  try {
    const page = await browser.newPage({ viewport });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(pathToFileURL(page_path).href);
    await page.waitForFunction(() => document.body.dataset.ready === '1' || document.body.dataset.error, null,
                               { timeout: 30000 });
    const err = await page.evaluate(() => document.body.dataset.error);
    if (err) fail('vega-embed: ' + err);
    // The points drawn by the first (scatter) layer.
    const points = await page.evaluate(() => spec.data.values);
    const drawn = await page.locator('#vis g.mark-symbol.role-mark').first().locator('path').count();
    if (drawn !== points.length) fail(`${drawn} points drawn, the page holds ${points.length}`);
    await check(page, points, drawn);
    if (errors.length) fail('page errors: ' + errors.join('; '));
  } finally {
    await browser.close();
  }
}

// The point of the scatter farthest from its nearest neighbour on screen (several may share coordinates), at its
// screen position from the view's scales: { d, x, y, gap }; xf, yf name the point's x and y fields.
export async function isolated_point(page, points, xf, yf) {
  return page.evaluate(([pts, xf, yf]) => {
    const v = window.tensionView;
    const box = document.querySelector('#vis svg').getBoundingClientRect();
    const [ox, oy] = v.origin(), pad = v.padding();  // the plot starts at the origin past the padding
    const [left, top] = [box.left + pad.left + ox, box.top + pad.top + oy];
    const xy = pts.map((d) => [left + v.scale('x')(d[xf]), top + v.scale('y')(d[yf])]);
    let best = 0, gap = -1;
    xy.forEach((p, i) => {
      const near = Math.min(...xy.map((q, j) => (i === j ? Infinity : Math.hypot(p[0] - q[0], p[1] - q[1]))));
      if (near > gap) { gap = near; best = i; }
    });
    return { d: pts[best], x: xy[best][0], y: xy[best][1], gap };
  }, [points, xf, yf]);
}
