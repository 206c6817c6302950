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

// A sprite's RGB at screen pixel (X, Y) of its box when scaled by s: pixelated, the sprite pixel under the pixel's
// centre; smooth, bilinear between the four nearest sprite pixels' centres, clamped at the edges (as torch's
// interpolate with align_corners false, which drew crops before sprites).
function scaled(data, w, h, s, X, Y, smooth) {
  const at = (x, y) => data.slice(4 * (y * w + x), 4 * (y * w + x) + 3);
  const clamp = (v, n) => Math.min(Math.max(v, 0), n - 1);
  if (!smooth) return at(clamp(Math.floor((X + 0.5) / s), w), clamp(Math.floor((Y + 0.5) / s), h));
  const sx = Math.max((X + 0.5) / s - 0.5, 0), sy = Math.max((Y + 0.5) / s - 0.5, 0);
  const x0 = clamp(Math.floor(sx), w), y0 = clamp(Math.floor(sy), h);
  const x1 = clamp(x0 + 1, w), y1 = clamp(y0 + 1, h), fx = sx - x0, fy = sy - y0;
  const [a, b, c, d] = [at(x0, y0), at(x1, y0), at(x0, y1), at(x1, y1)];
  return a.map((_, k) => (a[k] * (1 - fx) + b[k] * fx) * (1 - fy) + (c[k] * (1 - fx) + d[k] * fx) * fy);
}

// Checks that the canvas `canvas` (a locator) shows sprite `place` of `set` (render/sprite_sheet.h): its pixels
// equal the sheet's block there, the sheet decoded afresh, and on screen it is `css` px wide, scaled pixelated or
// (smooth) bilinearly, sampled at a few pixels. Returns its RGBA pixels.
export async function check_sprite(page, canvas, set, place, css, smooth, label) {
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
  const rendering = smooth ? 'auto' : 'pixelated';
  if (Math.abs(shown.css - css) > 0.01 || shown.rendering !== rendering) {
    fail(`${label}: the sprite is drawn ${shown.css} px wide (${shown.rendering}), not ${css} px ${rendering}`);
  }
  // Just inside the corners between four sprite pixels, where they differ most: pixelated scaling shows the
  // lower-right one there, bilinear nearly their mean. Allowed: what either gives at half a screen pixel either side,
  // since the browser may place the sprite off the pixel grid by that much.
  const s = css / set.width, corners = [];
  for (let ky = 1; ky < set.height; ++ky) {
    for (let kx = 1; kx < set.width; ++kx) {
      const four = [[kx - 1, ky - 1], [kx, ky - 1], [kx - 1, ky], [kx, ky]].map(([x, y]) => 4 * (y * set.width + x));
      const spread = [0, 1, 2].reduce((m, k) => Math.max(m, Math.max(...four.map((i) => shown.data[i + k])) -
                                                             Math.min(...four.map((i) => shown.data[i + k]))), 0);
      corners.push({ X: Math.floor(kx * s) + 1, Y: Math.floor(ky * s) + 1, spread });
    }
  }
  corners.sort((a, b) => b.spread - a.spread);
  for (const { X, Y } of corners.slice(0, 3)) {
    const on_screen = await screen_pixel(page, { x: shown.left + X + 0.5, y: shown.top + Y + 0.5 });
    const around = [-0.5, 0, 0.5].flatMap((dx) => [-0.5, 0, 0.5].map(
      (dy) => scaled(shown.data, set.width, set.height, s, X + dx, Y + dy, smooth)));
    const lo = [0, 1, 2].map((k) => Math.min(...around.map((p) => p[k])) - 2);
    const hi = [0, 1, 2].map((k) => Math.max(...around.map((p) => p[k])) + 2);
    if (on_screen.some((v, k) => v < lo[k] || v > hi[k])) {
      fail(`${label}: at (${X}, ${Y}) of the ${rendering} sprite the screen shows ${on_screen}, not between ` +
           `${lo.map(Math.round)} and ${hi.map(Math.round)}`);
    }
  }
  return shown.data;
}
