#pragma once
// The atlas's interactive page (paper §5, Fig 6): the composed atlas, zoomable, with the cell under the pointer
// detailed beside it (its icon's f_v, its number of images, its top images with their ± overlays), and the UMAP
// scatter coloured by f_v (Fig 6b). One offline HTML file; the pictures are files next to it, the top images'
// crops and overlays in sprite sheets.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tension/render/sprite_sheet.h"

namespace tension::atlas {

struct PageImage {
  int64_t index = 0;
  std::string id;
  double fv = 0;
  render::SpritePlace crop;                    // in AtlasPageData::crops
  std::optional<render::SpritePlace> overlay;  // in AtlasPageData::overlays; none when the run has no phi maps
};

struct PageCell {
  int xi = 0, yi = 0;            // grid cell; x to the right, y UP (cell (0, 0) is the bottom-left of the atlas)
  int64_t count = 0;             // images (points) in the cell
  double fv = 0;                 // the icon's own f_v (measured by passing the icon through the model)
  double mean_fv = 0;            // mean f_v of the cell's images
  std::string icon;              // the icon alone, path relative to the page
  std::vector<PageImage> top;    // the cell's top images (by L2,1 norm), each with its crop and ± overlay
};

struct PagePoint {
  double x = 0, y = 0, fv = 0;  // the normalised UMAP layout, [0, 1]^2, y up
  int64_t index = 0;
};

struct AtlasPageData {
  std::string title;
  std::string atlas_png;        // the composed atlas, relative path; square, `atlas_px` pixels a side
  int64_t atlas_px = 0;
  int grid = 30;                // n: cell (xi, yi) covers pixels x in [xi s, (xi+1) s), y in [(n-1-yi) s, (n-yi) s),
                                // s = atlas_px / n
  std::vector<PageCell> cells;  // the icon cells only
  render::SpriteSet crops, overlays;  // the top images' pictures
  std::vector<PagePoint> points;
  double fv_lo = 0, fv_hi = 0;  // the diverging colour scale's limits (centred at 0 when they straddle it)
  std::string feature, layer;   // for the caption
};

// Writes the page to `path`. Throws tension::Error when the data is inconsistent (atlas_px not a positive
// multiple of grid, a cell outside the grid or given twice, a point outside [0, 1]^2, fv_lo >= fv_hi, a top
// image's sprite on no sheet) or the file cannot be written.
void write_atlas_page(const std::string& path, const AtlasPageData& d);

}  // namespace tension::atlas
