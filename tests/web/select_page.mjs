// Loads a `tension select` page in headless Debian Chromium (playwright-core) and checks it: every point of the
// page's data is drawn, and clicking a point shows that point's image, crop and overlay.
// Usage: node select_page.mjs PAGE.html   (prints "ok ..." and exits 0, or prints the failure and exits 1)
import { chromium } from 'playwright-core';
import { pathToFileURL } from 'node:url';

const page_path = process.argv[2];
const fail = (msg) => { console.log('FAIL: ' + msg); process.exit(1); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(pathToFileURL(page_path).href);
  await page.waitForFunction(() => document.body.dataset.ready === '1' || document.body.dataset.error, null,
                             { timeout: 30000 });
  const err = await page.evaluate(() => document.body.dataset.error);
  if (err) fail('vega-embed: ' + err);

  // The data on the page, and the points drawn by the first (scatter) layer.
  const all = await page.evaluate(() => spec.data.values);
  const drawn = await page.locator('#vis g.mark-symbol.role-mark').first().locator('path').count();
  if (drawn !== all.length) fail(`${drawn} points drawn, the page holds ${all.length}`);

  // Click the point farthest from its nearest neighbour on screen (several images may share coordinates), at its
  // position from the view's scales.
  const { target, pos } = await page.evaluate((all) => {
    const v = window.tensionView;
    const box = document.querySelector('#vis svg').getBoundingClientRect();
    const [ox, oy] = v.origin();
    const xy = all.map((d) => [box.left + ox + v.scale('x')(d.e_pos), box.top + oy + v.scale('y')(d.e_neg)]);
    let best = 0, gap = -1;
    xy.forEach((p, i) => {
      const near = Math.min(...xy.map((q, j) => (i === j ? Infinity : Math.hypot(p[0] - q[0], p[1] - q[1]))));
      if (near > gap) { gap = near; best = i; }
    });
    return { target: all[best], pos: { x: xy[best][0], y: xy[best][1], gap } };
  }, all);
  if (pos.gap < 4) fail('no point stands apart from the others to click (nearest neighbour ' + pos.gap + ' px)');
  await page.mouse.click(pos.x, pos.y);
  await page.waitForFunction((i) => document.getElementById('detail').dataset.index === String(i), target.index,
                             { timeout: 5000 }).catch(() => {});
  const shown = await page.evaluate(() => ({
    index: document.getElementById('detail').dataset.index,
    text: document.getElementById('detail-text').textContent,
    image: document.getElementById('detail-image').getAttribute('src'),
    crop: document.getElementById('detail-crop').getAttribute('src'),
    overlay: document.getElementById('detail-overlay').getAttribute('src'),
  }));
  if (shown.index !== String(target.index)) fail(`clicked image ${target.index}, the page shows ${shown.index}`);
  if (shown.image !== target.image || shown.crop !== target.crop || shown.overlay !== target.overlay) {
    fail('the shown pictures are not the clicked point\'s: ' + JSON.stringify(shown));
  }
  if (!shown.text.includes(target.id)) fail('the caption does not name ' + target.id + ': ' + shown.text);
  await page.waitForFunction(() => ['detail-image', 'detail-crop', 'detail-overlay'].every(
    (id) => { const im = document.getElementById(id); return im.complete && im.naturalWidth > 0; }), null,
    { timeout: 5000 }).catch(() => fail('a picture of the clicked point did not load'));
  if (errors.length) fail('page errors: ' + errors.join('; '));
  console.log(`ok ${drawn} points; clicked ${target.index} (${target.id})`);
} finally {
  await browser.close();
}
