#include "tension/trials/bundle.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "tension/core/error.h"

namespace tension::trials {

namespace {

void to_json(nlohmann::json& j, const Bundle& b) {
  j = {{"format", 1},     {"model", b.model},   {"data", b.data},     {"seed", b.seed},
       {"cos_power", b.cos_power}, {"layers", b.layers}, {"crops", b.crops}, {"trials", b.trials}};
}

void check(const Bundle& b, const std::string& file) {
  auto fail = [&](const std::string& what) { throw Error(file + ": " + what); };
  std::set<std::string> layers, crops;
  for (const auto& l : b.layers) {
    if (!layers.insert(l.name).second) fail("layer " + l.name + " is listed twice");
  }
  for (const auto& c : b.crops) {
    if (!crops.insert(c.id).second) fail("crop " + c.id + " is listed twice");
    if (c.id.empty() || c.id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos) {
      fail("crop id '" + c.id + "' is not a plain name (a-z, 0-9, _ and -)");
    }
    if (!layers.count(c.layer)) fail("crop " + c.id + " names an unknown layer " + c.layer);
  }
  for (size_t t = 0; t < b.trials.size(); ++t) {
    const auto& tr = b.trials[t];
    const std::string name = fmt::format("trial {}", t);
    if (tr.id != static_cast<int64_t>(t)) fail(fmt::format("{} has id {}", name, tr.id));
    if (!layers.count(tr.layer)) fail(name + " names an unknown layer " + tr.layer);
    if (tr.examples.size() != kExampleMeis) fail(fmt::format("{} has {} example MEIs, not 6", name, tr.examples.size()));
    if (tr.choices.size() != kChoices) fail(fmt::format("{} has {} choices, not 9", name, tr.choices.size()));
    for (const auto* list : {&tr.examples, &tr.choices}) {
      for (const auto& c : *list) {
        if (!crops.count(c.crop)) fail(name + " names an unknown crop " + c.crop);
      }
    }
    auto in = [](int64_t i) { return i >= 0 && i < static_cast<int64_t>(kChoices); };
    if (!in(tr.mei) || !in(tr.mii) || tr.mei == tr.mii) {
      fail(fmt::format("{}: mei {} and mii {} must be distinct indices of the 9 choices", name, tr.mei, tr.mii));
    }
  }
}

}  // namespace

const Crop& Bundle::crop(const std::string& id) const {
  for (const auto& c : crops) {
    if (c.id == id) return c;
  }
  throw Error("bundle " + dir + ": no crop " + id);
}

std::vector<const Trial*> Bundle::layer_trials(const std::string& layer) const {
  std::vector<const Trial*> out;
  for (const auto& t : trials) {
    if (t.layer == layer) out.push_back(&t);
  }
  return out;
}

std::string Bundle::crop_path(const std::string& id) const { return dir + "/crops/" + id + ".png"; }

Bundle read_bundle(const std::string& dir) {
  const std::string file = dir + "/trials.json";
  std::ifstream in(file);
  if (!in) throw Error(file + ": cannot open (not a trial bundle? `tension trials build` writes one)");
  Bundle b;
  try {
    auto j = nlohmann::json::parse(in);
    if (j.value("format", 0) != 1) throw Error(file + ": not a trial bundle of format 1");
    b.model = j.at("model").get<std::string>();
    b.data = j.at("data").get<std::string>();
    b.seed = j.at("seed").get<uint64_t>();
    b.cos_power = j.at("cos_power").get<int>();
    b.layers = j.at("layers").get<std::vector<Layer>>();
    b.crops = j.at("crops").get<std::vector<Crop>>();
    b.trials = j.at("trials").get<std::vector<Trial>>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(file + ": malformed: " + e.what());
  }
  b.dir = dir;
  check(b, file);
  return b;
}

void write_bundle(const Bundle& b, const std::string& dir) {
  std::filesystem::create_directories(dir);
  const std::string file = dir + "/trials.json", tmp = file + ".tmp";
  nlohmann::json j;
  to_json(j, b);
  {
    std::ofstream out(tmp);
    out << j.dump(1) << "\n";
    if (!out) throw Error(tmp + ": cannot write");
  }
  std::filesystem::rename(tmp, file);
}

}  // namespace tension::trials
