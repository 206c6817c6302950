#include "tension/data/image_folder.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>

#include "tension/core/error.h"
#include "tension/data/image_decode.h"

namespace tension::data {

namespace fs = std::filesystem;

namespace {

constexpr std::array<const char*, 7> kExtensions = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"};

bool is_hidden(const fs::path& p) { return p.filename().string().rfind('.', 0) == 0; }

bool has_image_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return std::find(kExtensions.begin(), kExtensions.end(), ext) != kExtensions.end();
}

std::vector<std::string> top_level_folders(const fs::path& root) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(root))
    if (e.is_directory() && !is_hidden(e.path())) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> image_files(const fs::path& root) {
  std::vector<std::string> rel;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied);
       it != fs::recursive_directory_iterator(); ++it) {
    if (is_hidden(it->path())) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && has_image_extension(it->path()))
      rel.push_back(it->path().lexically_relative(root).generic_string());
  }
  std::sort(rel.begin(), rel.end());
  return rel;
}

class ImageFolder : public Dataset {
 public:
  ImageFolder(fs::path root, std::vector<std::string> classes, std::vector<std::string> files)
      : root_(std::move(root)), classes_(std::move(classes)), files_(std::move(files)) {
    for (const auto& f : files_) labels_.push_back(label_of(f));
  }

  size_t size() const override { return files_.size(); }
  std::string id(size_t i) const override { return (root_ / files_.at(i)).string(); }
  int64_t label(size_t i) const override { return labels_.at(i); }
  std::vector<std::string> class_names() const override { return classes_; }
  torch::Tensor load(size_t i) const override { return decode_image(id(i)); }

  std::string describe() const override {
    return "image folder " + root_.string() + " (" + std::to_string(files_.size()) + " images, " +
           std::to_string(classes_.size()) + " classes)";
  }

 private:
  // The index of the file's top-level folder among the classes; -1 for a file directly in the root.
  int64_t label_of(const std::string& rel) const {
    size_t slash = rel.find('/');
    if (slash == std::string::npos) return -1;
    return std::lower_bound(classes_.begin(), classes_.end(), rel.substr(0, slash)) - classes_.begin();
  }

  fs::path root_;
  std::vector<std::string> classes_;
  std::vector<std::string> files_;  // relative to root_, '/'-separated, sorted
  std::vector<int64_t> labels_;
};

}  // namespace

std::unique_ptr<Dataset> open_image_folder(const std::string& dir) {
  fs::path root(dir);
  if (!fs::is_directory(root)) throw Error("image folder " + dir + " is not a folder");
  std::vector<std::string> files, classes;
  try {
    files = image_files(root);
    classes = top_level_folders(root);
  } catch (const fs::filesystem_error& e) {
    throw Error("cannot list image folder " + dir + ": " + e.what());
  }
  if (files.empty()) throw Error("image folder " + dir + " holds no images (.jpg .jpeg .png .bmp .tif .tiff .webp)");
  return std::make_unique<ImageFolder>(root, std::move(classes), std::move(files));
}

}  // namespace tension::data
