#include "tension/store/merge_run.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>

#include "tension/core/error.h"
#include "tension/core/progress.h"
#include "tension/data/dataset.h"
#include "tension/store/attribute_run.h"
#include "tension/store/run_store.h"

namespace tension::store {

namespace {

namespace fs = std::filesystem;

// The first few of a list of images, for messages: "3 images (12, 13, 40)".
std::string some(const std::vector<int64_t>& images) {
  std::string s = std::to_string(images.size()) + " image" + (images.size() == 1 ? "" : "s") + " (";
  for (size_t i = 0; i < std::min<size_t>(images.size(), 8); ++i) s += (i ? ", " : "") + std::to_string(images[i]);
  return s + (images.size() > 8 ? ", ...)" : ")");
}

// The first 100 of a list of images, for run.json.
nlohmann::json first_images(const std::vector<int64_t>& images) {
  const auto n = static_cast<std::ptrdiff_t>(std::min<size_t>(images.size(), 100));
  return std::vector<int64_t>(images.begin(), images.begin() + n);
}

}  // namespace

void merge_run(const MergeOptions& opt, RunManifest& run) {
  if (opt.shards.empty()) throw Error("no shard to merge: give the run folders written with --shard I/N");
  run["params"] = opt;
  const auto target = fs::weakly_canonical(run.dir());
  // Each shard is opened as a writer: its lock refuses a pass still writing into it, and holds one off meanwhile.
  std::vector<std::unique_ptr<RunStore>> parts;
  std::vector<Shard> shards;
  size_t batch_size_of_first = 0;
  nlohmann::json base;
  std::vector<fs::path> seen;
  for (const auto& dir : opt.shards) {
    const auto canonical = fs::weakly_canonical(dir);
    if (canonical == target) throw Error("cannot merge shard " + dir + " into itself: use another --out");
    if (std::find(seen.begin(), seen.end(), canonical) != seen.end()) throw Error("shard " + dir + " is given twice");
    seen.push_back(canonical);
    const auto full = RunStore::open(dir)->config();
    if (!full.contains("shard")) {
      throw Error("run " + dir + " is not a shard (it was not written with tension attribute --shard I/N)");
    }
    const auto shard = full["shard"].get<Shard>();
    const auto batch_size = full["shard"].at("batch_size").get<size_t>();
    auto cfg = full;
    cfg.erase("shard");
    if (parts.empty()) {
      base = cfg;
      batch_size_of_first = batch_size;
    } else if (cfg != base) {
      throw Error("shard " + dir + " holds a pass of another configuration than " + opt.shards.front() +
                  " (differences: " + nlohmann::json::diff(base, cfg).dump() + ")");
    } else if (shard.count != shards.front().count || batch_size != batch_size_of_first) {
      throw Error(fmt::format("shard {} is part {}/{} of batches of {}, and {} part {}/{} of batches of {}: the "
                              "shards of one pass share N and --batch-size", dir, shard.index, shard.count,
                              batch_size, opt.shards.front(), shards.front().index, shards.front().count,
                              batch_size_of_first));
    }
    parts.push_back(RunStore::open_for_writing(dir, full));
    shards.push_back(shard);
    if (parts.back()->meta("layout") != parts.front()->meta("layout")) {
      throw Error("shard " + dir + " lays out its features differently from " + opt.shards.front() +
                  ": attribute the shards with one tension");
    }
  }

  // Every image of the dataset in exactly one shard.
  const size_t limit = base["data"].value("limit", size_t{0});
  const size_t dataset = data::open_dataset(base["data"]["spec"].get<std::string>())->size();
  const size_t n = limit ? std::min(limit, dataset) : dataset;
  std::vector<int> owner(n, -1);
  std::vector<int64_t> overlaps, gaps;
  nlohmann::json per_shard = nlohmann::json::array();
  for (size_t k = 0; k < parts.size(); ++k) {
    const auto stored = parts[k]->stored_images();
    for (int64_t i : stored) {
      if (i < 0 || static_cast<size_t>(i) >= n) continue;
      if (owner[i] >= 0) {
        overlaps.push_back(i);
      } else {
        owner[i] = static_cast<int>(k);
      }
    }
    per_shard.push_back({{"run", opt.shards[k]},
                         {"part", fmt::format("{}/{}", shards[k].index, shards[k].count)},
                         {"images", stored.size()},
                         {"rows", parts[k]->count_attributions()}});
  }
  for (size_t i = 0; i < n; ++i) {
    if (owner[i] < 0) gaps.push_back(static_cast<int64_t>(i));
  }
  std::sort(overlaps.begin(), overlaps.end());
  run["results"] = {{"shards", per_shard},
                    {"dataset_images", n},
                    {"gaps", {{"images", gaps.size()}, {"first", first_images(gaps)}}},
                    {"overlaps", {{"images", overlaps.size()}, {"first", first_images(overlaps)}}}};
  if (!opt.report && (!gaps.empty() || !overlaps.empty())) {
    std::string why;
    if (!gaps.empty()) why += some(gaps) + " of the dataset's " + std::to_string(n) + " are in no shard";
    if (!overlaps.empty()) why += (why.empty() ? "" : "; ") + some(overlaps) + " are in two shards";
    throw Error("cannot merge: " + why + ". Attribute the missing parts (or resume the unfinished ones), or give "
                "--report to merge what there is and list them in run.json");
  }

  auto merged = RunStore::open_for_writing(run.dir(), base);
  merged->set_meta("plan", parts.front()->meta("plan"));
  merged->set_meta("layout", parts.front()->meta("layout"));
  run.write("running");
  Progress bar("merge", parts.size(), "shard");
  for (const auto& dir : opt.shards) {
    merged->copy_rows_from(dir);
    bar.advance(1);
  }
  bar.finish();
  run["results"]["images"] = merged->stored_images().size();
  run["results"]["rows"] = merged->count_attributions();
  run.add_output("store.sqlite", "the shards' images and rows in one run store, as one pass would have written it");
  run.write();
  spdlog::info("merged {} shards: {} images, {} rows into {}{}", parts.size(),
               run["results"]["images"].get<size_t>(), run["results"]["rows"].get<int64_t>(), run.dir(),
               gaps.empty() && overlaps.empty()
                   ? ""
                   : fmt::format(" ({} images in no shard, {} in two: see run.json)", gaps.size(), overlaps.size()));
}

}  // namespace tension::store
