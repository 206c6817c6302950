// Shared by the page checks (select_page.mjs, atlas_page.mjs): open a page written by render/vega_page in headless
// Debian Chromium (playwright-core), wait until Vega has embedded it, check that its scatter draws every point
// of the page's data, run the page's own checks, and fail on any page error; read screen pixels and check the
// sprites the pages draw.
import { chromium } from 'playwright-core';
import { pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';

export const fail = (msg) => { console.log('FAIL: ' + msg); process.exit(1); };

// The colour of a 1x1 PNG screenshot. With a single pixel every PNG row filter predicts 0, so the bytes are raw.
function pixel(png) {
  let pos = 8, type = 0;
  const idat = [];
  while (pos < png.length) {
    const len = png.readUInt32BE(pos), name = png.toString('latin1', pos + 4, pos + 8);
    if (name === 'IHDR') type = png[pos + 8 + 9];
    if (name === 'IDAT') idat.push(png.subarray(pos + 8, pos + 8 + len));
    pos += 12 + len;
  }
  if (type !== 2 && type !== 6) fail('unexpected screenshot PNG colour type ' + type);
  return [...inflateSync(Buffer.concat(idat)).subarray(1, 4)];
}

// The RGB on screen at client point p.
export async function screen_pixel(page, p) {
  return pixel(await page.screenshot({ clip: { x: Math.floor(p.x), y: Math.floor(p.y), width: 1, height: 1 } }));
}

// The RGBA pixels of the picture at a page-relative or file URL, as the browser decodes it: { width, height, data }.
export async function picture_pixels(page, src) {
  return page.evaluate(async (src) => {
    const im = new Image();
    im.src = src;
    await im.decode();
    const c = document.createElement('canvas');
    c.width = im.naturalWidth;
    c.height = im.naturalHeight;
    const g = c.getContext('2d');
    g.drawImage(im, 0, 0);
    return { width: c.width, height: c.height, data: [...g.getImageData(0, 0, c.width, c.height).data] };
  }, src);
}

// The w x h block at (x, y) of RGBA pixels { width, data }, as a flat RGBA array.
export function block(pixels, x, y, w, h) {
  const out = [];
  for (let r = y; r < y + h; ++r) {
    out.push(...pixels.data.slice(4 * (r * pixels.width + x), 4 * (r * pixels.width + x + w)));
  }
  return out;
}

// Checks that the canvas `canvas` (a locator) shows sprite `place` of `set` (render/sprite_sheet.h): its pixels
// equal the sheet's block there, the sheet decoded afresh, and on screen it is `css` px wide with every sprite
// pixel drawn as a block (pixelated scaling), sampled along the diagonal. Returns its RGBA pixels.
export async function check_sprite(page, canvas, set, place, css, label) {
  const sheet = await picture_pixels(page, set.files[place.sheet].split('/').map(encodeURIComponent).join('/'));
  const shown = await canvas.evaluate((c) => {
    const r = c.getBoundingClientRect(), st = getComputedStyle(c);
    return { width: c.width, height: c.height, hidden: c.hidden, css: parseFloat(st.width),
             rendering: st.imageRendering, left: r.left + c.clientLeft, top: r.top + c.clientTop,
             data: [...c.getContext('2d').getImageData(0, 0, c.width, c.height).data] };
  });
  if (shown.hidden) fail(`${label}: the sprite's canvas is hidden`);
  if (shown.width !== set.width || shown.height !== set.height) {
    fail(`${label}: the canvas is ${shown.width}x${shown.height}, a sprite ${set.width}x${set.height}`);
  }
  const want = block(sheet, place.x, place.y, set.width, set.height);
  const bad = want.findIndex((v, i) => v !== shown.data[i]);
  if (bad >= 0) {
    fail(`${label}: the canvas differs from sheet ${set.files[place.sheet]} at (${place.x}, ${place.y}) first at ` +
         `pixel ${Math.floor(bad / 4)}: ${shown.data[bad]} vs ${want[bad]}`);
  }
  if (Math.abs(shown.css - css) > 0.01 || shown.rendering !== 'pixelated') {
    fail(`${label}: the sprite is drawn ${shown.css} px wide (${shown.rendering}), not ${css} px pixelated`);
  }
  const s = css / set.width, n = Math.min(set.width, set.height);
  for (const i of [0, Math.floor(n / 2), n - 1]) {
    const on_screen = await screen_pixel(page, { x: shown.left + (i + 0.5) * s, y: shown.top + (i + 0.5) * s });
    const px = shown.data.slice(4 * (i * set.width + i), 4 * (i * set.width + i) + 3);
    if (on_screen.some((v, k) => Math.abs(v - px[k]) > 2)) {
      fail(`${label}: sprite pixel (${i}, ${i}) is ${px}, the screen shows ${on_screen}`);
    }
  }
  return shown.data;
}

// check(page, points, drawn) runs the page-specific checks; points: spec.data.values.
export async function check_vega_page(page_path, viewport, check) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    // File access from files: the checks read back canvases drawn from the page's own pictures.
    args: ['--no-sandbox', '--disable-gpu', '--allow-file-access-from-files'],
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
