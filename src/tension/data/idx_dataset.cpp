#include "tension/data/idx_dataset.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "tension/core/error.h"
#include "tension/data/idx_file.h"

namespace tension::data {

namespace {

std::string find_labels_file(const std::string& images_path) {
  std::string path = idx_labels_path(images_path);
  if (path.empty()) return "";
  const std::string gz = ".gz";
  bool zipped = path.size() > gz.size() && path.compare(path.size() - gz.size(), gz.size(), gz) == 0;
  for (const std::string& candidate : {path, zipped ? path.substr(0, path.size() - gz.size()) : path + gz})
    if (std::filesystem::is_regular_file(candidate)) return candidate;
  return "";
}

class IdxDataset : public Dataset {
 public:
  IdxDataset(std::string path, IdxArray images, std::string labels_path, std::vector<int64_t> labels,
             std::vector<std::string> class_names)
      : path_(std::move(path)),
        images_(std::move(images)),
        labels_path_(std::move(labels_path)),
        labels_(std::move(labels)),
        class_names_(std::move(class_names)) {}

  size_t size() const override { return size_t(images_.dims[0]); }
  std::string id(size_t i) const override { return path_ + "#" + std::to_string(i); }
  int64_t label(size_t i) const override { return labels_.empty() ? -1 : labels_.at(i); }
  std::vector<std::string> class_names() const override { return class_names_; }

  torch::Tensor load(size_t i) const override {
    if (i >= size()) throw Error("item " + std::to_string(i) + " is out of range for " + describe());
    int64_t h = images_.dims[1], w = images_.dims[2], c = channels();
    // from_blob wants a mutable pointer; the bytes are only read, then copied by the conversion.
    auto* item = const_cast<uint8_t*>(images_.values.data()) + i * size_t(h * w * c);
    return torch::from_blob(item, {h, w, c}, torch::kUInt8)
        .permute({2, 0, 1})
        .contiguous()
        .to(torch::kFloat)
        .div(255.0);
  }

  std::string describe() const override {
    return "IDX file " + path_ + " (" + std::to_string(size()) + " images " + std::to_string(images_.dims[1]) + "x" +
           std::to_string(images_.dims[2]) + "x" + std::to_string(channels()) + ", " +
           (labels_path_.empty() ? "no labels" : "labels from " + labels_path_) + ")";
  }

 private:
  int64_t channels() const { return images_.dims.size() == 4 ? images_.dims[3] : 1; }

  std::string path_;
  IdxArray images_;
  std::string labels_path_;
  std::vector<int64_t> labels_;
  std::vector<std::string> class_names_;
};

}  // namespace

std::string idx_labels_path(const std::string& images_path) {
  std::filesystem::path p(images_path);
  std::string name = p.filename().string();
  size_t at = name.rfind("images");
  if (at == std::string::npos) return "";
  name.replace(at, 6, "labels");
  size_t idx = name.find("idx", at);
  if (idx != std::string::npos && idx + 3 < name.size() && std::isdigit(static_cast<unsigned char>(name[idx + 3])))
    name[idx + 3] = '1';
  return (p.parent_path() / name).string();
}

std::unique_ptr<Dataset> open_idx(const std::string& images_path, std::vector<std::string> class_names) {
  IdxArray images = read_idx(images_path);
  const auto& d = images.dims;
  bool shape_ok = (d.size() == 3 || (d.size() == 4 && (d[3] == 1 || d[3] == 3))) && d[1] > 0 && d[2] > 0;
  if (!shape_ok)
    throw Error("IDX file " + images_path +
                " does not hold images: expected [N, H, W] or [N, H, W, C] with C = 1 or 3, got " + c10::str(d));
  std::string labels_path = find_labels_file(images_path);
  std::vector<int64_t> labels;
  if (!labels_path.empty()) {
    IdxArray l = read_idx(labels_path);
    if (l.dims.size() != 1 || l.dims[0] != d[0])
      throw Error("IDX label file " + labels_path + " does not match " + images_path + ": expected " +
                  std::to_string(d[0]) + " labels in one dimension");
    labels.assign(l.values.begin(), l.values.end());
    if (class_names.empty() && !labels.empty())
      for (int64_t k = 0; k <= *std::max_element(labels.begin(), labels.end()); ++k)
        class_names.push_back(std::to_string(k));
  }
  return std::make_unique<IdxDataset>(images_path, std::move(images), labels_path, std::move(labels),
                                      std::move(class_names));
}

}  // namespace tension::data
