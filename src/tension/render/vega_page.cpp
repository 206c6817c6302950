#include "tension/render/vega_page.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tension/core/error.h"
#include "tension/render/diverging.h"
#include "tension/render/html_page.h"

namespace tension::render {

namespace {

std::string node_modules() {
  if (const char* env = std::getenv("TENSION_NODE_MODULES")) return env;
  return std::string(TENSION_SOURCE_DIR) + "/node_modules";
}

std::string bundle(const std::string& rel) {
  const std::string path = node_modules() + "/" + rel;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error("interactive pages need " + path + ": run `npm ci` in the source folder (make deps does), or set "
                "TENSION_NODE_MODULES");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string js = ss.str();
  // A bundle inlined in <script> must not close the element early.
  for (size_t p = 0; (p = js.find("</script", p)) != std::string::npos; p += 9) js.replace(p, 8, "<\\/script");
  return js;
}

// JSON inside <script>: escape '<' so no "</script>" or "<!--" in the data can end the element.
std::string script_json(const nlohmann::json& j) {
  std::string s = j.dump();
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '<') out += "\\u003c";
    else out += c;
  }
  return out;
}

// Sprites (render/sprite_sheet.h), for the page scripts: drawSprite(canvas, set, place) sizes the canvas to one
// sprite of the set and copies it from its sheet (each sheet loads once), and CSS scales the canvas. A canvas ends
// showing the last sprite asked of it, whatever order the sheets load in; data-drawn names the one it shows.
constexpr const char* kSpriteScript = R"JS(
const spriteSheets = new Map();
function drawSprite(canvas, set, place) {
  const file = set.files[place.sheet], key = file + '@' + place.x + ',' + place.y;
  canvas.dataset.sprite = key;
  if (!spriteSheets.has(file)) {
    spriteSheets.set(file, new Promise((resolve, reject) => {
      const im = new Image();
      im.onload = () => resolve(im);
      im.onerror = () => reject(new Error('cannot load the sprite sheet ' + file));
      im.src = file.split('/').map(encodeURIComponent).join('/');
    }));
  }
  return spriteSheets.get(file).then((im) => {
    if (canvas.dataset.sprite !== key) return;
    canvas.width = set.width;
    canvas.height = set.height;
    canvas.getContext('2d').drawImage(im, place.x, place.y, set.width, set.height, 0, 0, set.width, set.height);
    canvas.dataset.drawn = key;
  });
}
)JS";

}  // namespace

nlohmann::json fv_colour_scale(double lo, double hi) {
  const auto& c = kDivergingStops;
  if (lo < 0 && hi > 0) {
    return {{"domain", {lo, lo / 2, 0, hi / 2, hi}}, {"range", c}, {"clamp", true}};
  }
  return {{"domain", {lo, hi}}, {"range", hi <= 0 ? nlohmann::json{c[0], c[2]} : nlohmann::json{c[2], c[4]}},
          {"clamp", true}};
}

void write_vega_page(const std::string& path, const VegaPage& page) {
  std::ostringstream html;
  // Pictures beside the chart scale up pixelated, so that a small image shows its pixels; class "smooth" scales
  // bilinearly instead, as the static figures draw crops (analysis/feature_field.h's crop_resized).
  html << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" << html_escape(page.title) << "</title>\n"
       << "<style>body{font-family:sans-serif;margin:1em}#wrap{display:flex;gap:2em;align-items:flex-start}"
          "#side img,#side canvas{image-rendering:pixelated;border:1px solid #ccc;margin:2px}"
          "#side .smooth{image-rendering:auto}</style>\n";
  for (const char* rel : {"vega/build/vega.min.js", "vega-lite/build/vega-lite.min.js",
                          "vega-embed/build/vega-embed.min.js"}) {
    html << "<script>" << bundle(rel) << "</script>\n";
  }
  html << "</head><body><h1>" << html_escape(page.title) << "</h1>\n<div id=\"wrap\"><div id=\"vis\"></div>"
       << "<div id=\"side\">" << page.side_html << "</div></div>\n<script>" << kSpriteScript
       << "const spec = " << script_json(page.spec)
       << ";\nvegaEmbed('#vis', spec, {renderer: 'svg', actions: false}).then(function (result) {\n"
       << "  const view = result.view;\n  window.tensionView = view;\n"
       << page.script << "\n  document.body.dataset.ready = '1';\n"
       << "}).catch(function (e) { document.body.dataset.error = String(e); console.error(e); });\n</script>\n"
       << "</body></html>\n";
  std::ofstream out(path, std::ios::binary);
  out << html.str();
  if (!out) throw Error("cannot write " + path);
}

}  // namespace tension::render
