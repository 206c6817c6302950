// Loads an atlas page (src/tension/atlas/atlas_page.cpp) in headless Debian Chromium (playwright-core) and checks
// it: the scatter draws every point; hovering an icon cell shows that cell's f_v, count and pictures (the top
// images' crops and overlays the sprites the page's data gives them, 80 px wide, scaled smoothly); an empty cell
// says it has no icon; after a wheel zoom and a drag the hit test still finds the cell under the pointer; a click
// pins a cell; a scatter point shows its cell.
// Usage: node atlas_page.mjs PAGE.html [--check-colours]
//   --check-colours: the test's synthetic page (tests/test_atlas_page.cpp). Its atlas's icon cells are flat
//   colours equal to their icons', so the screen pixel at a cell's centre must equal the one at the centre of the
//   icon in the detail panel; and the top image with index i has, at sprite pixel (x, y), the crop
//   (37 i + 16 x, 16 y, 60) mod 256 and the overlay (255 - 37 i, 16 x, 16 y) mod 256.
// Prints "ok ..." and exits 0, or prints the failure and exits 1.
import { check_sprite, check_vega_page, fail, isolated_point, screen_pixel } from './vega_page.mjs';

const page_path = process.argv[2];
const check_colours = process.argv.includes('--check-colours');
const url = (p) => p.split('/').map(encodeURIComponent).join('/');  // as the page writes src attributes
const fmt = (v) => (typeof v === 'number' ? v.toPrecision(4) : 'NaN');
const pattern = {
  crop: (i, x, y) => [(37 * i + 16 * x) % 256, (16 * y) % 256, 60],
  overlay: (i, x, y) => [(((255 - 37 * i) % 256) + 256) % 256, (16 * x) % 256, (16 * y) % 256],
};

await check_vega_page(page_path, { width: 1400, height: 1000 }, async (page, points, drawn) => {

  const A = await page.evaluate(() => spec.usermeta.atlas);
  const n = A.grid, key = (c) => c.xi + ',' + c.yi;
  const byCell = new Map(A.cells.map((c) => [key(c), c]));
  if (!A.cells.length) fail('the page has no icon cell to check');
  await page.waitForFunction(() => { const im = document.getElementById('atlas-img'); return im.complete; });
  const natural = await page.evaluate(() => document.getElementById('atlas-img').naturalWidth);
  if (natural !== A.atlas_px) fail(`the atlas picture is ${natural} px wide, the page says ${A.atlas_px}`);

  const view = await page.evaluate(() => {
    const r = document.getElementById('atlas-view').getBoundingClientRect();
    return { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
  });
  const inside = (p, m = 2) =>
    p.x > view.left + m && p.x < view.right - m && p.y > view.top + m && p.y < view.bottom - m;
  const centre = (c) => page.evaluate(([xi, yi]) => window.atlasCellCentre(xi, yi), [c.xi, c.yi]);
  const cellAt = (p) => page.evaluate(([x, y]) => window.atlasCellAt(x, y), [p.x, p.y]);
  const imgBox = () => page.evaluate(() => {
    const r = document.getElementById('atlas-img').getBoundingClientRect();
    return { left: r.left, top: r.top, width: r.width, height: r.height };
  });
  const shot = (p) => screen_pixel(page, p);
  const shown = () => page.evaluate(() => {
    const d = document.getElementById('cell-detail');
    return {
      xi: d.dataset.xi, yi: d.dataset.yi, icon: d.dataset.icon,
      head: document.getElementById('cell-head').textContent,
      stats: document.getElementById('cell-stats').textContent,
      icon_src: document.getElementById('cell-icon').getAttribute('src'),
      tops: [...document.querySelectorAll('#cell-top figure')].map((f) => ({
        index: f.dataset.index,
        pictures: f.querySelectorAll('canvas').length,
        caption: f.querySelector('figcaption').textContent,
      })),
    };
  });

  // Hovers cell c at its centre under the current zoom and checks the panel shows c's data.
  async function hover_icon(c, label) {
    const p = await centre(c);
    if (!inside(p)) fail(`${label}: cell (${c.xi}, ${c.yi}) is centred outside the viewport, ${JSON.stringify(p)}`);
    const at = await cellAt(p);
    if (!at || at.xi !== c.xi || at.yi !== c.yi) {
      fail(`${label}: atlasCellAt at the centre of (${c.xi}, ${c.yi}) gives ${JSON.stringify(at)}`);
    }
    // Independently of the page's arithmetic: the cell under p from the transformed picture's box.
    const b = await imgBox();
    const col = Math.floor((p.x - b.left) / (b.width / n)), row = Math.floor((p.y - b.top) / (b.height / n));
    if (col !== c.xi || n - 1 - row !== c.yi) {
      fail(`${label}: the picture puts (${col}, ${n - 1 - row}) under ${JSON.stringify(p)}`);
    }
    await page.mouse.move(p.x, p.y);
    await page.waitForFunction(([xi, yi]) => {
      const d = document.getElementById('cell-detail');
      return d.dataset.xi === String(xi) && d.dataset.yi === String(yi);
    }, [c.xi, c.yi], { timeout: 5000 }).catch(() => {});
    const s = await shown();
    if (s.xi !== String(c.xi) || s.yi !== String(c.yi) || s.icon !== '1') {
      fail(`${label}: hovered (${c.xi}, ${c.yi}), the panel shows ${JSON.stringify(s)}`);
    }
    const m = await page.evaluate(() => {
      const r = document.getElementById('atlas-mark').getBoundingClientRect();
      return { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
    });
    const side = b.width / n;
    if (Math.abs(m.left - (p.x - side / 2)) > 1 || Math.abs(m.top - (p.y - side / 2)) > 1 ||
        Math.abs(m.right - m.left - side) > 1) {
      fail(`${label}: the outline ${JSON.stringify(m)} is not around cell (${c.xi}, ${c.yi}) at ${JSON.stringify(p)}`);
    }
    for (const part of [fmt(c.fv), String(c.count), fmt(c.mean_fv)]) {
      if (!s.stats.includes(part)) fail(`${label}: "${s.stats}" lacks ${part}`);
    }
    if (s.icon_src !== url(c.icon)) fail(`${label}: icon ${s.icon_src}, expected ${url(c.icon)}`);
    if (s.tops.length !== c.top.length) fail(`${label}: ${s.tops.length} top images shown, not ${c.top.length}`);
    c.top.forEach((t, j) => {
      const got = s.tops[j], want = t.overlay ? 2 : 1;
      if (got.index !== String(t.index) || got.pictures !== want) {
        fail(`${label}: top image ${j} shows ${JSON.stringify(got)}, expected ${t.index} with ${want} pictures`);
      }
      if (!got.caption.includes(t.id)) fail(`${label}: caption "${got.caption}" does not name ${t.id} verbatim`);
    });
    await page.waitForFunction(() => [...document.querySelectorAll('#cell-detail canvas')].every(
      (c) => !c.hidden && c.dataset.drawn === c.dataset.sprite), null, { timeout: 5000 })
      .catch(() => fail(`${label}: a picture of cell (${c.xi}, ${c.yi}) was not drawn`));
    for (const [j, t] of c.top.entries()) {
      const canvases = page.locator('#cell-top figure').nth(j).locator('canvas');
      for (const [k, kind] of (t.overlay ? ['crop', 'overlay'] : ['crop']).entries()) {
        const set = kind === 'crop' ? A.crops : A.overlays;
        const px = await check_sprite(page, canvases.nth(k), set, t[kind], 80, true, `${label}: ${kind} of ${t.index}`);
        if (!check_colours) continue;
        for (let y = 0; y < set.height; ++y) {
          for (let x = 0; x < set.width; ++x) {
            const got = px.slice(4 * (y * set.width + x), 4 * (y * set.width + x) + 3);
            const want = pattern[kind](t.index, x, y);
            if (got.some((v, i) => v !== want[i])) {
              fail(`${label}: the ${kind} of image ${t.index} is ${got} at (${x}, ${y}), not its own ${want}`);
            }
          }
        }
      }
    }
    await page.waitForFunction(() => {
      const im = document.getElementById('cell-icon');
      return im.complete && im.naturalWidth > 0;
    }, null, { timeout: 5000 }).catch(() => fail(`${label}: the icon of cell (${c.xi}, ${c.yi}) did not load`));
    if (check_colours) {
      const ib = await page.evaluate(() => {
        const r = document.getElementById('cell-icon').getBoundingClientRect();
        return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
      });
      const [on_atlas, icon] = [await shot(p), await shot(ib)];
      if (on_atlas.some((v, i) => Math.abs(v - icon[i]) > 2)) {
        fail(`${label}: the atlas shows ${on_atlas} at the centre of (${c.xi}, ${c.yi}), its icon is ${icon}`);
      }
    }
    return p;
  }

  // 1. An icon cell at zoom 1: the one with the most top images.
  const first = A.cells.reduce((a, c) => (c.top.length > a.top.length ? c : a));
  const p1 = await hover_icon(first, 'zoom 1');

  // 2. An empty cell.
  let empty = null;
  for (let i = 0; i < n * n && !empty; ++i) {
    const c = { xi: i % n, yi: Math.floor(i / n) };
    if (!byCell.has(key(c))) empty = c;
  }
  if (empty) {
    const p = await centre(empty);
    await page.mouse.move(p.x, p.y);
    const s = await shown();
    if (s.xi !== String(empty.xi) || s.yi !== String(empty.yi) || s.icon !== '0' || !s.head.includes('no icon') ||
        s.tops.length) {
      fail(`empty cell (${empty.xi}, ${empty.yi}): the panel shows ${JSON.stringify(s)}`);
    }
  }

  // 3. Wheel zoom about the first cell's centre: the picture grows, the cell under the pointer stays.
  const before = await imgBox();
  await page.mouse.move(p1.x, p1.y);
  await page.mouse.wheel(0, -300);
  await page.waitForFunction((w) => document.getElementById('atlas-img').getBoundingClientRect().width > w + 1,
                             before.width, { timeout: 5000 }).catch(() => {});
  const after = await imgBox();
  const zoom = after.width / before.width;
  if (!(zoom > 1.2)) fail(`the wheel did not zoom in: the atlas went from ${before.width} to ${after.width} px`);
  const still = await cellAt(p1);
  if (!still || still.xi !== first.xi || still.yi !== first.yi) {
    fail(`zooming about (${first.xi}, ${first.yi}) moved it from under the pointer: ${JSON.stringify(still)}`);
  }
  // Another icon cell in view if there is one (a sparse atlas may have none near the first), else the first again.
  let second = first;
  for (const c of A.cells) {
    if (c !== first && second === first && inside(await centre(c), 10)) second = c;
  }
  await hover_icon(second, `zoom x${zoom.toFixed(2)}`);

  // 4. A drag pans by the pointer's movement; the hit test follows.
  const room_right = view.left - after.left;  // how far the picture can move right before its edge shows
  const dx = room_right >= 30 ? 30 : -30, dy = 0;
  const c2 = await centre(second);
  await page.mouse.move(c2.x, c2.y);
  await page.mouse.down();
  await page.mouse.move(c2.x + dx / 2, c2.y + dy, { steps: 3 });
  await page.mouse.move(c2.x + dx, c2.y + dy, { steps: 3 });
  await page.mouse.up();
  const moved = await centre(second);
  if (Math.abs(moved.x - c2.x - dx) > 0.5 || Math.abs(moved.y - c2.y - dy) > 0.5) {
    fail(`dragging by (${dx}, ${dy}) moved the cell centre ${JSON.stringify(c2)} to ${JSON.stringify(moved)}`);
  }
  await hover_icon(second, 'panned');

  // 5. A click pins the cell: hovering elsewhere keeps it; a second click unpins.
  const pinned_at = await centre(second);
  await page.mouse.click(pinned_at.x, pinned_at.y);
  await page.mouse.move(view.left + 3, view.top + 3);
  let s = await shown();
  if (s.xi !== String(second.xi) || s.yi !== String(second.yi) || !s.head.includes('pinned')) {
    fail('a click did not pin the cell: ' + JSON.stringify(s));
  }
  await page.mouse.click(pinned_at.x, pinned_at.y);
  await page.mouse.move(view.left + 3, view.top + 3);
  const corner = await cellAt({ x: view.left + 3, y: view.top + 3 });
  s = await shown();
  if (s.xi !== String(corner.xi) || s.yi !== String(corner.yi)) {
    fail('a second click did not unpin: ' + JSON.stringify(s));
  }

  // 6. The reset button.
  await page.click('#zoom-reset');
  const reset = await imgBox();
  if (Math.abs(reset.width - before.width) > 0.5 || Math.abs(reset.left - before.left) > 0.5) {
    fail('reset did not restore the view: ' + JSON.stringify(reset));
  }

  // 7. A point of the scatter shows its cell: the point farthest from its nearest neighbour on screen.
  const target = await isolated_point(page, points, 'x', 'y');
  if (target.gap < 4) fail('no scatter point stands apart from the others to hover');
  const cell_of = (v) => Math.min(n - 1, Math.floor(v * n));
  const want = { xi: cell_of(target.d.x), yi: cell_of(target.d.y) };
  await page.mouse.move(target.x, target.y);
  await page.waitForFunction(([xi, yi]) => {
    const d = document.getElementById('cell-detail');
    return d.dataset.xi === String(xi) && d.dataset.yi === String(yi);
  }, [want.xi, want.yi], { timeout: 5000 }).catch(() => {});
  s = await shown();
  if (s.xi !== String(want.xi) || s.yi !== String(want.yi)) {
    fail(`hovering image ${target.d.index} at (${target.d.x}, ${target.d.y}) shows cell (${s.xi}, ${s.yi})`);
  }

  console.log(`ok ${drawn} points; cell (${first.xi}, ${first.yi}) with ${first.top.length} top images; ` +
              `empty cell ${empty ? `(${empty.xi}, ${empty.yi})` : 'none'}; zoom x${zoom.toFixed(2)} then ` +
              `cell (${second.xi}, ${second.yi}); pan, pin, reset; scatter point ${target.d.index} -> ` +
              `cell (${want.xi}, ${want.yi})` + (check_colours ? '; colours and sprites match' : ''));
});
