#pragma once
// Interactive pages that work offline: a Vega-Lite chart with the Vega, Vega-Lite and Vega-Embed bundles
// (npm, pinned by package-lock.json) inlined into one HTML file.
#include <nlohmann/json.hpp>

#include <string>

namespace tension::render {

struct VegaPage {
  std::string title;
  nlohmann::json spec;       // the Vega-Lite specification, embedded in #vis
  std::string side_html;     // markup beside the chart (trusted)
  std::string script;        // runs after embedding, with `view` (the Vega view) in scope, and
                             // drawSprite(canvas, set, place) to show a sprite (render/sprite_sheet.h)
};

// The f_v colour scale of the static figures (RdBu reversed with a grey centre, as render/diverging.h and the
// gnuplot palettes) as a Vega-Lite scale over [lo, hi], grey at 0 when lo < 0 < hi.
nlohmann::json fv_colour_scale(double lo, double hi);

// Writes the page. The bundles come from $TENSION_NODE_MODULES, else the source tree's node_modules; a clear
// tension::Error says to run `npm ci` when they are missing.
void write_vega_page(const std::string& path, const VegaPage& page);

}  // namespace tension::render
