#include "tension/trials/trial_select.h"

#include <fmt/format.h>

#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "tension/core/error.h"
#include "tension/trials/bundle.h"

namespace tension::trials {

namespace {

using CropKey = std::tuple<int64_t, int64_t, int64_t>;
CropKey key(const Candidate& c) { return {c.image, c.row, c.col}; }

// The layer's rules, as crops are taken trial by trial.
class LayerRules {
 public:
  // The image is not shown at another position anywhere in the layer.
  bool position_free(const Candidate& c) const {
    auto it = position_.find(c.image);
    return it == position_.end() || it->second == std::make_pair(c.row, c.col);
  }
  // Neither an MII nor a distractor of an earlier trial.
  bool unused_as_foil(const Candidate& c) const { return !foils_.count(key(c)); }
  void take(const Candidate& c, bool foil) {
    position_[c.image] = {c.row, c.col};
    if (foil) foils_.insert(key(c));
  }

 private:
  std::map<int64_t, std::pair<int64_t, int64_t>> position_;
  std::set<CropKey> foils_;
};

}  // namespace

std::vector<SelectedTrial> select_trials(const std::string& layer, const std::vector<FeatureCandidates>& features) {
  LayerRules rules;
  std::vector<SelectedTrial> out;
  for (size_t fi = 0; fi < features.size(); ++fi) {
    const auto& f = features[fi];
    const std::string who = fmt::format("layer {}, feature {} (centroid {})", layer, fi, f.feature);
    SelectedTrial t;
    t.feature = f.feature;
    std::set<int64_t> images;  // of this trial: one crop per image
    std::vector<Candidate> meis;
    for (const auto& c : f.top) {
      if (meis.size() == 1 + kExampleMeis) break;
      if (rules.position_free(c) && images.insert(c.image).second) meis.push_back(c);
    }
    if (meis.size() < 1 + kExampleMeis) {
      throw Error(fmt::format("{}: only {} images can give the target and 6 example MEIs without showing an image "
                              "at two positions; the dataset is too small",
                              who, meis.size()));
    }
    t.mei = meis[0];
    t.examples.assign(meis.begin() + 1, meis.end());
    bool have_mii = false;
    for (const auto& c : f.bottom) {
      if (rules.position_free(c) && rules.unused_as_foil(c) && !images.count(c.image)) {
        t.mii = c;
        images.insert(c.image);
        have_mii = true;
        break;
      }
    }
    if (!have_mii) {
      throw Error(fmt::format("{}: no image is left for the target MII (each crop is an MII or distractor once, "
                              "one position per image); the dataset is too small",
                              who));
    }
    for (const auto& c : f.distractors) {
      if (t.distractors.size() == kDistractors) break;
      if (rules.position_free(c) && rules.unused_as_foil(c) && images.insert(c.image).second) {
        t.distractors.push_back(c);
      }
    }
    if (t.distractors.size() < kDistractors) {
      throw Error(fmt::format("{}: only {} of 7 distractors have an activation within 2 sd of the mean ({:.4g} +- "
                              "{:.4g}) and a hidden-vector L1 norm at or above the layer's 90th percentile, unused "
                              "as an MII or distractor and from an image not shown at another position; the dataset "
                              "is too small",
                              who, t.distractors.size(), f.mean, 2 * f.sd));
    }
    for (const auto& c : meis) rules.take(c, false);
    rules.take(t.mii, true);
    for (const auto& c : t.distractors) rules.take(c, true);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace tension::trials
