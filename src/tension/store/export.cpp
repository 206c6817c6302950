#include "tension/store/export.h"

#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "tension/core/csv.h"
#include "tension/core/error.h"
#include "tension/core/npy.h"

namespace tension::store {

namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

const std::vector<std::string>& csv_columns() {
  static const std::vector<std::string> cols{"image_index", "image", "label", "feature", "layer", "fv",
                                             "E",           "E_pos", "E_neg", "L1",      "L2",    "L21"};
  return cols;
}

size_t export_csv(const RunStore& store, const std::string& path) {
  std::ofstream f(path);
  if (!f) throw Error("cannot write " + path);
  const auto& cfg = store.config();
  std::map<int64_t, ImageRecord> images;
  for (auto& im : store.images()) images[im.index] = im;
  for (size_t i = 0; i < csv_columns().size(); ++i) f << (i ? "," : "") << csv_columns()[i];
  f << "\n";
  size_t n = 0;
  store.for_each_attribution(RowQuery{}, [&](AttributionRecord&& r) {
    const auto& im = images.at(r.image);
    f << r.image << "," << csv_field(im.id) << "," << im.label << ","
      << csv_field(cfg["features"][r.feature].get<std::string>()) << ","
      << csv_field(cfg["layers"][r.layer].get<std::string>()) << "," << num(r.fv) << "," << num(r.e) << ","
      << num(r.e_pos) << "," << num(r.e_neg) << "," << num(r.l1) << "," << num(r.l2) << "," << num(r.l21)
      << "\n";
    ++n;
  });
  if (!f) throw Error("cannot write " + path);
  return n;
}

std::vector<std::string> export_npy(const RunStore& store, const std::string& dir) {
  std::filesystem::create_directories(dir);
  const auto& cfg = store.config();
  const size_t nf = cfg["features"].size(), nl = cfg["layers"].size();
  // Rows come ordered by (image, feature, layer); only images with attributions appear. Only what is exported is
  // kept, not the rows.
  std::vector<int64_t> index;
  std::vector<std::vector<double>> fv(nf);
  std::map<std::pair<size_t, size_t>, std::vector<std::vector<float>>> channels;
  std::map<std::pair<size_t, size_t>, std::array<std::vector<double>, 3>> e;
  RowQuery q;
  q.blobs = true;  // the channel sums
  store.for_each_attribution(q, [&](AttributionRecord&& r) {
    if (index.empty() || index.back() != r.image) index.push_back(r.image);
    auto key = std::make_pair(static_cast<size_t>(r.feature), static_cast<size_t>(r.layer));
    if (r.layer == 0) fv[r.feature].push_back(r.fv);
    e[key][0].push_back(r.e);
    e[key][1].push_back(r.e_pos);
    e[key][2].push_back(r.e_neg);
    if (!r.channels.empty()) channels[key].push_back(std::move(r.channels));
  });
  std::vector<std::string> written;
  auto save = [&](const std::string& name, const torch::Tensor& t) {
    write_npy((std::filesystem::path(dir) / name).string(), t);
    written.push_back(name);
  };
  save("image_index.npy", torch::tensor(index, torch::kInt64));
  for (size_t k = 0; k < nf; ++k) {
    save("fv_F" + std::to_string(k) + ".npy", torch::tensor(fv[k], torch::kFloat64));
    for (size_t l = 0; l < nl; ++l) {
      auto key = std::make_pair(k, l);
      std::string suffix = "_F" + std::to_string(k) + "_L" + std::to_string(l) + ".npy";
      save("e" + suffix, torch::tensor(e[key][0], torch::kFloat64));
      save("e_pos" + suffix, torch::tensor(e[key][1], torch::kFloat64));
      save("e_neg" + suffix, torch::tensor(e[key][2], torch::kFloat64));
      const auto& ch = channels[key];
      if (ch.empty()) continue;
      if (ch.size() != index.size()) throw Error("channel vectors missing for some images in the run store");
      auto m = torch::empty({static_cast<int64_t>(ch.size()), static_cast<int64_t>(ch[0].size())});
      for (size_t i = 0; i < ch.size(); ++i) {
        std::memcpy(m[static_cast<int64_t>(i)].data_ptr<float>(), ch[i].data(), ch[i].size() * sizeof(float));
      }
      save("channels" + suffix, m);
    }
  }
  return written;
}

}  // namespace tension::store
