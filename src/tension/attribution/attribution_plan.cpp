#include "tension/attribution/attribution_plan.h"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tension/core/error.h"

namespace tension::attribution {

namespace {

constexpr int kPlanFormat = 1;

model::Box box_of(const nlohmann::json& j) {
  if (!j.is_array() || j.size() != 4) throw Error("a box is [top, left, bottom, right]");
  return {j[0].get<int64_t>(), j[1].get<int64_t>(), j[2].get<int64_t>(), j[3].get<int64_t>()};
}

std::string entry_path(const std::string& dir, const std::string& key) { return dir + "/plans/" + key + ".json"; }

}  // namespace

AttributionPlan plan_of(const AttributionPlan& run_plan, size_t feature, size_t layer) {
  AttributionPlan p = run_plan;
  p.footprints = {{run_plan.footprints.at(feature).at(layer)}};
  if (p.crop.height() > 0) p.crop_needed = {run_plan.crop_needed.at(feature)};
  return p;
}

void to_json(nlohmann::json& j, const AttributionPlan& p) {
  j = {{"format", kPlanFormat},       {"footprints", p.footprints},       {"crop", p.crop},
       {"crop_stride", p.crop_stride}, {"crop_needed", p.crop_needed},    {"suffix_margin", p.suffix_margin},
       {"verified", p.verified}};
}

void from_json(const nlohmann::json& j, AttributionPlan& p) {
  if (j.at("format").get<int>() != kPlanFormat) throw Error("another plan format");
  p.footprints.clear();
  for (const auto& per_layer : j.at("footprints")) {
    p.footprints.emplace_back();
    for (const auto& b : per_layer) p.footprints.back().push_back(box_of(b));
  }
  p.crop = box_of(j.at("crop"));
  p.crop_stride = j.at("crop_stride").get<std::map<std::string, int64_t>>();
  p.crop_needed.clear();
  for (const auto& b : j.at("crop_needed")) p.crop_needed.push_back(box_of(b));
  p.suffix_margin = j.at("suffix_margin").get<int>();
  p.verified = j.at("verified").get<bool>();
}

std::optional<AttributionPlan> load_cached_plan(const std::string& dir, const std::string& key) {
  const auto path = entry_path(dir, key);
  std::ifstream f(path);
  if (!f) return std::nullopt;
  try {
    return nlohmann::json::parse(f).get<AttributionPlan>();
  } catch (const std::exception& e) {  // malformed JSON, missing keys, wrong types
    spdlog::warn("ignoring the cached plan {}: {}", path, e.what());
    return std::nullopt;
  }
}

void save_cached_plan(const std::string& dir, const std::string& key, const AttributionPlan& plan) {
  const auto path = entry_path(dir, key);
  std::error_code ec;
  std::filesystem::create_directories(dir + "/plans", ec);
  const auto tmp = path + ".tmp" + std::to_string(::getpid());  // processes planning at once do not collide
  {
    std::ofstream f(tmp);
    f << nlohmann::json(plan).dump() << "\n";
    if (!f) {
      spdlog::debug("plan cache: cannot write {}", tmp);
      std::filesystem::remove(tmp, ec);
      return;
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    spdlog::debug("plan cache: cannot write {}: {}", path, ec.message());
    std::filesystem::remove(tmp, ec);
  }
}

}  // namespace tension::attribution
