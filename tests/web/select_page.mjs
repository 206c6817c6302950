// Loads a `tension select` page in headless Debian Chromium (playwright-core) and checks it: every point of the
// page's data is drawn, and clicking a point shows that point's image, crop and overlay.
// Usage: node select_page.mjs PAGE.html   (prints "ok ..." and exits 0, or prints the failure and exits 1)
import { check_vega_page, fail, isolated_point } from './vega_page.mjs';

const page_path = process.argv[2];

await check_vega_page(page_path, { width: 1400, height: 900 }, async (page, all, drawn) => {
  // Click an isolated point.
  const pos = await isolated_point(page, all, 'e_pos', 'e_neg'), target = pos.d;
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
  console.log(`ok ${drawn} points; clicked ${target.index} (${target.id})`);
});
