// The demo's atlas section (paper §5, Fig 6): conv3:40 of the default model attributed to relu2 over the whole
// training set, its top images by L2,1 norm laid out by UMAP, with an icon per dense cell, static and interactive.
#include <fmt/format.h>

#include "tension/atlas/atlas_run.h"
#include "tension/report/sections.h"
#include "tension/store/attribute_run.h"

namespace tension::report {

void atlas_section(const DemoOptions& o, RunManifest& run, render::HtmlPage& page) {
  const std::string& data = o.atlas_data;
  const std::string& model_name = o.models.front();
  const std::string feature = "conv3:40", layer = "relu2";
  store::AttributeOptions args;
  args.model.spec = model_name;
  args.model.seed = o.seed;
  args.model.device = o.device;
  args.data = data;
  args.features = {feature};
  args.layers = {layer};
  auto attribution = run.nested("atlas-attribution", "attribute");
  store::attribute_run(args, attribution);

  atlas::AtlasRunOptions ao;
  ao.run = attribution.dir();
  ao.device = o.device;
  auto& opt = ao.atlas;  // the paper code's defaults: top 10,000 images, 30 x 30 cells
  opt.umap.seed = opt.icons.seed = o.seed;
  opt.tile.px = 64;
  auto ar = run.nested("atlas", "atlas");
  atlas::atlas_run(ao, ar);
  const auto& res = ar["results"]["atlas"];
  run["results"]["atlas"] = res;

  page.section("The feature attribution atlas (paper §5, Fig 6)", "atlas");
  page.paragraph(fmt::format(
      "{} of {} attributed to {} over all {} images of {} (tension attribute); the atlas takes the top {} by L2,1 "
      "attribution norm, lays out S summed over space with UMAP (10 neighbours, min_dist 0.1, cosine), grids the "
      "layout {}x{}, and inverts an icon toward |mean S| (dot*cos^2, Adam lr 0.06, 202 steps) for each of the {} "
      "cells with more than 5 images (tension atlas). Icon borders show the icon's own f_v on the blue-grey-red "
      "scale of mean -/+ 7 sd of f_v ({:.3g} to {:.3g}).",
      feature, model_name, layer, res["run_images"].get<size_t>(), data, res["images"].get<int64_t>(), opt.grid.n,
      opt.grid.n, res["icons"].get<size_t>(), res["fv_colour_limits"][0].get<double>(),
      res["fv_colour_limits"][1].get<double>()));
  page.raw("<p><a href=\"atlas/page.html\">Open the interactive atlas</a>: zoom with the wheel, hover a cell for its "
           "icon's f_v, its number of images and its top images with their ± maps.</p>");
  page.image("atlas/selection.png", "Fig 6a: (E+, E-) of every image coloured by f_v, and density contours of the "
                                    "images the atlas takes (top by L2,1 norm)");
  page.image("atlas/layout.png", "Fig 6b: UMAP of the attribution vectors, coloured by f_v");
  page.image("atlas/atlas.png", "Fig 6c: the atlas; each icon is an inversion toward its cell's mean |S|, cropped "
                                "to the unit's receptive field, its opacity over white, its border its own f_v");
}

}  // namespace tension::report
