#include "tension/atlas/atlas_page.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>
#include <utility>

#include "tension/core/error.h"
#include "tension/render/html_page.h"
#include "tension/render/vega_page.h"

namespace tension::atlas {

namespace {

constexpr int kViewPx = 640;  // the atlas viewport's side in CSS pixels

void check(const AtlasPageData& d) {
  if (d.grid < 1) throw Error("atlas page: the grid needs at least 1 cell a side, got " + std::to_string(d.grid));
  if (d.atlas_px <= 0 || d.atlas_px % d.grid != 0) {
    throw Error("atlas page: the atlas is " + std::to_string(d.atlas_px) + " px a side, not a positive multiple of " +
                "the grid's " + std::to_string(d.grid) + " cells, so cells would not fall on whole pixels");
  }
  if (d.atlas_png.empty()) throw Error("atlas page: no atlas picture given");
  if (!(std::isfinite(d.fv_lo) && std::isfinite(d.fv_hi) && d.fv_lo < d.fv_hi)) {
    throw Error("atlas page: the colour scale's limits must be finite with fv_lo < fv_hi, got [" +
                std::to_string(d.fv_lo) + ", " + std::to_string(d.fv_hi) + "]");
  }
  std::set<std::pair<int, int>> seen;
  for (const auto& c : d.cells) {
    const std::string at = "(" + std::to_string(c.xi) + ", " + std::to_string(c.yi) + ")";
    if (c.xi < 0 || c.yi < 0 || c.xi >= d.grid || c.yi >= d.grid) {
      throw Error("atlas page: cell " + at + " is outside the " + std::to_string(d.grid) + "x" +
                  std::to_string(d.grid) + " grid");
    }
    if (!seen.insert({c.xi, c.yi}).second) throw Error("atlas page: cell " + at + " is given twice");
    auto on_sheet = [](const render::SpriteSet& set, const render::SpritePlace& p) {
      return p.sheet >= 0 && p.sheet < static_cast<int64_t>(set.files.size());
    };
    for (const auto& t : c.top) {
      if (!on_sheet(d.crops, t.crop) || (t.overlay && !on_sheet(d.overlays, *t.overlay))) {
        throw Error("atlas page: a picture of image " + std::to_string(t.index) + " in cell " + at +
                    " is on no sprite sheet");
      }
    }
  }
  for (const auto& p : d.points) {
    if (!(p.x >= 0 && p.x <= 1 && p.y >= 0 && p.y <= 1)) {
      throw Error("atlas page: point of image " + std::to_string(p.index) + " at (" + std::to_string(p.x) + ", " +
                  std::to_string(p.y) + ") is outside the normalised layout [0, 1]^2");
    }
  }
}

// Both layout axes over exactly [0, 1], so the scatter's cells line up with the atlas's.
nlohmann::json unit_axis(const std::string& field, const std::string& title) {
  nlohmann::json a = {{"field", field},
                      {"type", "quantitative"},
                      {"scale", {{"domain", {0, 1}}, {"nice", false}, {"zero", false}}},
                      {"axis", {{"grid", false}}}};  // the cell lines are the grid
  if (!title.empty()) a["title"] = title;
  return a;
}

// The cell lines k / n, k = 0..n, across one axis; shown while the "cell grid" box is ticked.
nlohmann::json grid_lines(int n, const std::string& channel) {
  return {{"data", {{"sequence", {{"start", 0}, {"stop", n + 1}, {"as", "k"}}}}},
          {"transform", {{{"calculate", "datum.k / " + std::to_string(n)}, {"as", "g"}}}},
          {"mark", {{"type", "rule"}, {"color", "#888"}, {"strokeWidth", 0.5}}},
          {"encoding",
           {{channel, unit_axis("g", "")},
            {"opacity", {{"condition", {{"test", "grid_lines"}, {"value", 0.35}}}, {"value", 0}}}}}};
}

nlohmann::json scatter_spec(const AtlasPageData& d) {
  nlohmann::json values = nlohmann::json::array();
  for (const auto& p : d.points) values.push_back({{"x", p.x}, {"y", p.y}, {"fv", p.fv}, {"index", p.index}});
  const auto scale = render::fv_colour_scale(d.fv_lo, d.fv_hi);

  nlohmann::json cells = nlohmann::json::array();
  for (const auto& c : d.cells) {
    nlohmann::json top = nlohmann::json::array();
    for (const auto& t : c.top) {
      top.push_back({{"index", t.index}, {"id", t.id}, {"fv", t.fv}, {"crop", t.crop},
                     {"overlay", t.overlay ? nlohmann::json(*t.overlay) : nlohmann::json()}});
    }
    cells.push_back({{"xi", c.xi}, {"yi", c.yi}, {"count", c.count}, {"fv", c.fv}, {"mean_fv", c.mean_fv},
                     {"icon", c.icon}, {"top", top}});
  }

  const std::string n = std::to_string(d.grid);
  nlohmann::json points_layer = {
      {"mark", {{"type", "point"}, {"filled", true}, {"size", 16}, {"opacity", 0.8}}},
      {"encoding",
       {{"x", unit_axis("x", "UMAP x")},
        {"y", unit_axis("y", "UMAP y")},
        {"color", {{"field", "fv"}, {"type", "quantitative"}, {"title", "f_v"}, {"scale", scale}}},
        {"tooltip",
         {{{"field", "index"}, {"title", "image"}}, {{"field", "fv"}, {"format", ".4g"}},
          {{"field", "x"}, {"format", ".3f"}}, {{"field", "y"}, {"format", ".3f"}}}}}}};
  // The cell shown in the detail panel, outlined here too (the page sets cell_xi / cell_yi); drawn under the
  // points so that it never takes their hover.
  nlohmann::json cell_layer = {
      {"data", {{"values", nlohmann::json::array({nlohmann::json::object()})}}},
      {"transform",
       {{{"filter", "cell_xi >= 0"}},
        {{"calculate", "cell_xi / " + n}, {"as", "x0"}},
        {{"calculate", "(cell_xi + 1) / " + n}, {"as", "x1"}},
        {{"calculate", "cell_yi / " + n}, {"as", "y0"}},
        {{"calculate", "(cell_yi + 1) / " + n}, {"as", "y1"}}}},
      {"mark", {{"type", "rect"}, {"filled", false}, {"stroke", "black"}, {"strokeWidth", 2}}},
      {"encoding",
       {{"x", unit_axis("x0", "")},
        {"x2", {{"field", "x1"}}},
        {"y", unit_axis("y0", "")},
        {"y2", {{"field", "y1"}}}}}};

  // The atlas's own data rides along in the spec (Vega-Lite ignores usermeta) for the page script and tests.
  nlohmann::json atlas = {{"grid", d.grid},   {"atlas_png", d.atlas_png}, {"atlas_px", d.atlas_px},
                          {"cells", cells},    {"view_px", kViewPx},       {"crops", d.crops},
                          {"overlays", d.overlays}};
  return {{"$schema", "https://vega.github.io/schema/vega-lite/v6.json"},
          {"width", 360},
          {"height", 360},
          {"title", "UMAP of the attributions, coloured by f_v"},
          {"usermeta", {{"atlas", atlas}}},
          {"params",
           {{{"name", "grid_lines"}, {"value", true}, {"bind", {{"input", "checkbox"}, {"name", "cell grid "}}}},
            {{"name", "cell_xi"}, {"value", -1}},
            {{"name", "cell_yi"}, {"value", -1}}}},
          {"data", {{"name", "points"}, {"values", values}}},
          {"layer", {grid_lines(d.grid, "x"), grid_lines(d.grid, "y"), cell_layer, points_layer}}};
}

std::string side_html(const AtlasPageData& d) {
  const std::string n = std::to_string(d.grid), px = std::to_string(kViewPx);
  std::string caption = "Feature attribution atlas";
  if (!d.feature.empty()) caption += " of " + d.feature;
  if (!d.layer.empty()) caption += " at " + d.layer;
  caption += ": " + n + "x" + n + " cells, " + std::to_string(d.cells.size()) + " icons over " +
             std::to_string(d.points.size()) + " images. Wheel to zoom, drag to pan; hover a cell for its images, "
             "click to pin it.";
  // The panel sits beside the atlas, the scatter above it (#side's children join #wrap's grid).
  return "<style>#wrap{display:grid;grid-template-columns:auto minmax(320px,1fr);grid-template-rows:auto 1fr;"
         "grid-template-areas:'atlas vis' 'atlas detail';gap:1em 2em;align-items:start}"
         "#side{display:contents}#atlas-box{grid-area:atlas;max-width:" + px + "px}#vis{grid-area:vis}"
         "#cell-detail{grid-area:detail}"
         "#atlas-view{position:relative;width:" + px + "px;height:" + px + "px;overflow:hidden;"
         "border:1px solid #999;cursor:crosshair;touch-action:none;user-select:none;background:#fff}"
         "#atlas-stage{position:absolute;left:0;top:0;width:" + px + "px;height:" + px + "px;"
         "transform-origin:0 0}"
         "#side #atlas-img{display:block;width:" + px + "px;height:" + px + "px;border:0;margin:0;"
         "-webkit-user-drag:none}"
         "#atlas-mark{position:absolute;box-sizing:border-box;border:2px solid #000;pointer-events:none}"
         "#atlas-mark.pinned{border-color:#e6a000}"
         "#atlas-controls{margin:.4em 0}#atlas-controls button{margin-right:.3em}"
         ".caption{font-size:90%;color:#444}"
         "#cell-summary{display:flex;gap:1em;align-items:center}#cell-stats{max-width:360px}"
         "#cell-top{display:flex;flex-wrap:wrap;gap:.5em}"
         "#cell-top figure{margin:0;font-size:80%;width:176px;overflow-wrap:anywhere}"
         "#side #cell-icon{width:96px}#cell-top canvas{width:80px}</style>"
         "<div id=\"atlas-box\"><div id=\"atlas-view\"><div id=\"atlas-stage\">"
         "<img id=\"atlas-img\" alt=\"atlas\" draggable=\"false\"><div id=\"atlas-mark\" hidden></div></div></div>"
         "<div id=\"atlas-controls\"><button id=\"zoom-in\" type=\"button\">+</button>"
         "<button id=\"zoom-out\" type=\"button\">&minus;</button>"
         "<button id=\"zoom-reset\" type=\"button\">reset</button> <span id=\"atlas-zoom\">x1.0</span></div>"
         "<p class=\"caption\">" + render::html_escape(caption) + "</p></div>"
         "<div id=\"cell-detail\" data-xi=\"\" data-yi=\"\"><p id=\"cell-head\">Hover over the atlas.</p>"
         "<div id=\"cell-summary\"><img id=\"cell-icon\" alt=\"icon\" hidden><p id=\"cell-stats\"></p></div>"
         "<div id=\"cell-top\"></div></div>";
}

// Runs inside write_vega_page's embedding callback (`view` in scope). The atlas zooms by a CSS transform
// translate(tx, ty) scale(k) on #atlas-stage (the image and the cell outline together); a client point maps back
// to atlas pixels through the same transform, which is all the hit test needs.
constexpr const char* kScript = R"JS(
  const A = spec.usermeta.atlas, n = A.grid, V = A.view_px, cellPx = V / n, maxZoom = 20;
  const url = (p) => p.split('/').map(encodeURIComponent).join('/');
  const fmt = (v) => (typeof v === 'number' ? v.toPrecision(4) : 'NaN');
  const byCell = new Map(A.cells.map((c) => [c.xi + ',' + c.yi, c]));
  const box = document.getElementById('atlas-view'), stage = document.getElementById('atlas-stage');
  const mark = document.getElementById('atlas-mark'), detail = document.getElementById('cell-detail');
  const img = document.getElementById('atlas-img');
  img.src = url(A.atlas_png);
  let k = 1, tx = 0, ty = 0, pinned = null, shownKey = null;

  function origin() {
    const r = box.getBoundingClientRect();
    return [r.left + box.clientLeft, r.top + box.clientTop];
  }
  // Keeps the zoom in [1, maxZoom] and the image covering the viewport.
  function apply() {
    k = Math.min(Math.max(k, 1), maxZoom);
    tx = Math.min(0, Math.max(V * (1 - k), tx));
    ty = Math.min(0, Math.max(V * (1 - k), ty));
    stage.style.transform = 'translate(' + tx + 'px, ' + ty + 'px) scale(' + k + ')';
    mark.style.borderWidth = 2 / k + 'px';
    img.style.imageRendering = k * V >= A.atlas_px ? 'pixelated' : 'auto';  // sharp pixels, smooth shrinking
    document.getElementById('atlas-zoom').textContent = 'x' + k.toFixed(1);
  }
  // Zooms by factor f about the client point (cx, cy), which stays over the same atlas pixel.
  function zoomAt(cx, cy, f) {
    const [ox, oy] = origin(), mx = cx - ox, my = cy - oy;
    const k2 = Math.min(Math.max(k * f, 1), maxZoom);
    tx = mx - (mx - tx) * k2 / k;
    ty = my - (my - ty) * k2 / k;
    k = k2;
    apply();
  }
  function cellAt(cx, cy) {
    const [ox, oy] = origin(), vx = cx - ox, vy = cy - oy;
    if (vx < 0 || vy < 0 || vx >= V || vy >= V) return null;  // outside the viewport, where the atlas is clipped
    const col = Math.floor((vx - tx) / k / cellPx), row = Math.floor((vy - ty) / k / cellPx);
    if (col < 0 || row < 0 || col >= n || row >= n) return null;
    return { xi: col, yi: n - 1 - row };
  }
  function cellCentre(xi, yi) {
    const [ox, oy] = origin();
    return { x: ox + tx + k * (xi + 0.5) * cellPx, y: oy + ty + k * (n - 1 - yi + 0.5) * cellPx };
  }
  window.atlasCellAt = cellAt;
  window.atlasCellCentre = cellCentre;

  function picture(set, place, label) {
    const c = document.createElement('canvas');
    c.className = 'smooth';
    c.setAttribute('aria-label', label);
    c.hidden = true;
    drawSprite(c, set, place).then(() => { c.hidden = false; });
    return c;
  }
  function show(cell) {
    if (!cell) return;
    const key = cell.xi + ',' + cell.yi + (pinned ? ' pinned' : '');
    if (key === shownKey) return;
    shownKey = key;
    detail.dataset.xi = String(cell.xi);
    detail.dataset.yi = String(cell.yi);
    mark.hidden = false;
    mark.classList.toggle('pinned', pinned !== null);
    Object.assign(mark.style, { left: cell.xi * cellPx + 'px', top: (n - 1 - cell.yi) * cellPx + 'px',
                                width: cellPx + 'px', height: cellPx + 'px' });
    view.signal('cell_xi', cell.xi).signal('cell_yi', cell.yi).runAsync();
    const c = byCell.get(cell.xi + ',' + cell.yi);
    detail.dataset.icon = c ? '1' : '0';
    document.getElementById('cell-head').textContent = 'cell (' + cell.xi + ', ' + cell.yi + ')' +
      (c ? '' : ': no icon (too few images)') + (pinned ? ', pinned: click it again to unpin' : '');
    const icon = document.getElementById('cell-icon'), top = document.getElementById('cell-top');
    top.replaceChildren();
    if (!c) {
      icon.hidden = true;
      icon.removeAttribute('src');
      document.getElementById('cell-stats').textContent = '';
      return;
    }
    icon.src = url(c.icon);
    icon.hidden = false;
    document.getElementById('cell-stats').textContent = 'icon f_v = ' + fmt(c.fv) + '; ' + c.count +
      ' images, mean f_v = ' + fmt(c.mean_fv) +
      (c.top.length ? '; top images by attribution norm, crop and ± overlay:' : '');
    for (const t of c.top) {
      const fig = document.createElement('figure');
      fig.className = 'top-image';
      fig.dataset.index = String(t.index);
      fig.append(picture(A.crops, t.crop, 'crop'));
      if (t.overlay) fig.append(picture(A.overlays, t.overlay, '± overlay'));
      const cap = document.createElement('figcaption');
      cap.textContent = 'image ' + t.index + ', f_v = ' + fmt(t.fv) + ': ' + t.id;
      fig.append(cap);
      top.append(fig);
    }
  }
  function tap(cell) {
    if (!cell) return;
    pinned = pinned && pinned.xi === cell.xi && pinned.yi === cell.yi ? null : cell;
    show(cell);
  }

  let drag = null;
  box.addEventListener('pointerdown', (e) => {
    drag = { x: e.clientX, y: e.clientY, tx: tx, ty: ty, moved: false };
    box.setPointerCapture(e.pointerId);
  });
  box.addEventListener('pointermove', (e) => {
    if (drag) {
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (!drag.moved && Math.hypot(dx, dy) < 4) return;  // a tap that wobbles is not a drag
      drag.moved = true;
      tx = drag.tx + dx;
      ty = drag.ty + dy;
      apply();
      return;
    }
    if (!pinned) show(cellAt(e.clientX, e.clientY));
  });
  box.addEventListener('pointerup', (e) => {
    if (drag && !drag.moved) tap(cellAt(e.clientX, e.clientY));
    drag = null;
  });
  box.addEventListener('pointercancel', () => { drag = null; });
  box.addEventListener('wheel', (e) => {
    e.preventDefault();
    const scale = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? V : 1;  // lines or pages to pixels
    zoomAt(e.clientX, e.clientY, Math.exp(-e.deltaY * scale * 0.002));
    if (!pinned) show(cellAt(e.clientX, e.clientY));
  }, { passive: false });
  function zoomCentre(f) {
    const [ox, oy] = origin();
    zoomAt(ox + V / 2, oy + V / 2, f);
  }
  document.getElementById('zoom-in').addEventListener('click', () => zoomCentre(1.5));
  document.getElementById('zoom-out').addEventListener('click', () => zoomCentre(1 / 1.5));
  document.getElementById('zoom-reset').addEventListener('click', () => { k = 1; tx = 0; ty = 0; apply(); });

  // A point of the scatter shows (and outlines) its cell.
  view.addEventListener('mouseover', (event, item) => {
    const d = item && item.datum;
    if (pinned || !d || d.index === undefined) return;
    show({ xi: Math.min(n - 1, Math.floor(d.x * n)), yi: Math.min(n - 1, Math.floor(d.y * n)) });
  });
  apply();
)JS";

}  // namespace

void write_atlas_page(const std::string& path, const AtlasPageData& d) {
  check(d);
  render::VegaPage page;
  page.title = d.title;
  page.spec = scatter_spec(d);
  page.side_html = side_html(d);
  page.script = kScript;
  render::write_vega_page(path, page);
}

}  // namespace tension::atlas
