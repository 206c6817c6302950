// Loads a `tension select` page in headless Debian Chromium (playwright-core) and checks it: every point of the
// page's data is drawn, and clicking a point shows that point's image, crop and overlay, each the sprite the
// page's data gives it, 160 px wide, the image scaled pixelated and the crop and overlay smoothly.
// Usage: node select_page.mjs PAGE.html [--images DIR]
//   --images DIR: the run's images are the files DIR/ID (ID as the page gives it) at the model's input size, so
//   the clicked point's image must be that file pixel for pixel, and its crop the file's block in the page's field.
// Prints "ok ..." and exits 0, or prints the failure and exits 1.
import { block, check_sprite, check_vega_page, fail, isolated_point, picture_pixels } from './vega_page.mjs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const page_path = process.argv[2];
const at = process.argv.indexOf('--images'), images = at > 0 ? process.argv[at + 1] : null;

await check_vega_page(page_path, { width: 1400, height: 900 }, async (page, all, drawn) => {
  const { sprites: S, field } = await page.evaluate(() => spec.usermeta);
  // Click an isolated point.
  const pos = await isolated_point(page, all, 'e_pos', 'e_neg'), target = pos.d;
  if (pos.gap < 4) fail('no point stands apart from the others to click (nearest neighbour ' + pos.gap + ' px)');
  await page.mouse.click(pos.x, pos.y);
  await page.waitForFunction((i) => document.getElementById('detail').dataset.index === String(i), target.index,
                             { timeout: 5000 }).catch(() => {});
  const shown = await page.evaluate(() => ({
    index: document.getElementById('detail').dataset.index,
    text: document.getElementById('detail-text').textContent,
  }));
  if (shown.index !== String(target.index)) fail(`clicked image ${target.index}, the page shows ${shown.index}`);
  if (!shown.text.includes(target.id)) fail('the caption does not name ' + target.id + ': ' + shown.text);
  const pictures = [['image', 'detail-image'], ['crop', 'detail-crop']];
  if (S.overlay) pictures.push(['overlay', 'detail-overlay']);
  await page.waitForFunction((ids) => ids.every((id) => {
    const c = document.getElementById(id);
    return !c.hidden && c.dataset.drawn === c.dataset.sprite;
  }), pictures.map(([, id]) => id), { timeout: 5000 })
    .catch(() => fail('a picture of the clicked point was not drawn'));
  if (!S.overlay && !(await page.evaluate(() => document.getElementById('detail-overlay').hidden))) {
    fail('the run has no overlays, yet the overlay is shown');
  }
  const px = {};
  for (const [kind, id] of pictures) {
    px[kind] = await check_sprite(page, page.locator('#' + id), S[kind], target[kind], 160, kind !== 'image',
                                  `${kind} of ${target.index}`);
  }
  let against = '';
  if (images) {
    const file = path.isAbsolute(target.id) ? target.id : path.join(images, target.id);
    const source = await picture_pixels(page, pathToFileURL(file).href);
    const [top, left, bottom, right] = field;
    if (source.width !== S.image.width || source.height !== S.image.height ||
        S.crop.width !== right - left || S.crop.height !== bottom - top) {
      fail(`--images: ${file} is ${source.width}x${source.height}, the field ${JSON.stringify(field)}; the sprites ` +
           `${S.image.width}x${S.image.height} and ${S.crop.width}x${S.crop.height}`);
    }
    const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
    if (!same(px.image, source.data)) fail(`the image shown for ${target.index} is not ${file}`);
    if (!same(px.crop, block(source, left, top, right - left, bottom - top))) {
      fail(`the crop shown for ${target.index} is not ${file} in the field ${JSON.stringify(field)}`);
    }
    against = '; image and crop equal to its file';
  }
  console.log(`ok ${drawn} points; clicked ${target.index} (${target.id}): ${pictures.length} sprites${against}`);
});
