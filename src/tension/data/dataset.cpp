#include "tension/data/dataset.h"

#include <filesystem>

#include "tension/core/error.h"
#include "tension/core/sha256.h"
#include "tension/data/idx_dataset.h"
#include "tension/data/image_decode.h"
#include "tension/data/image_folder.h"
#include "tension/data/synthetic.h"

namespace tension::data {

namespace {

const char* const kFashionMnistDir = "/usr/share/datasets/fashion-mnist";  // Debian's dataset-fashion-mnist

std::unique_ptr<Dataset> open_fashion_mnist(const std::string& split) {
  if (split != "test" && split != "train")
    throw Error("unknown Fashion-MNIST split '" + split + "' (use fashion-mnist:test or fashion-mnist:train)");
  std::string path =
      std::string(kFashionMnistDir) + "/" + (split == "test" ? "t10k" : "train") + "-images-idx3-ubyte.gz";
  if (!std::filesystem::exists(path))
    throw Error("Fashion-MNIST is not installed (" + path +
                " is missing): install the Debian package dataset-fashion-mnist");
  return open_idx(
      path, {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"});
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

std::unique_ptr<Dataset> open_dataset(const std::string& spec) {
  if (starts_with(spec, "synthetic:")) return open_synthetic(spec.substr(10));
  if (spec == "fashion-mnist") return open_fashion_mnist("test");
  if (starts_with(spec, "fashion-mnist:")) return open_fashion_mnist(spec.substr(14));
  std::error_code ec;
  if (std::filesystem::is_directory(spec, ec)) return open_image_folder(spec);
  if (std::filesystem::is_regular_file(spec, ec)) return open_idx(spec);
  throw Error("dataset " + spec +
              " does not exist (expected an image folder, an IDX file, "
              "fashion-mnist[:test|:train] or synthetic:NAME)");
}

std::string listing_hash(const Dataset& ds) {
  Sha256 h;
  for (size_t i = 0; i < ds.size(); ++i) h.update(ds.id(i) + "\t" + std::to_string(ds.label(i)) + "\n");
  return h.hex();
}

torch::Tensor load_image(const std::string& spec) {
  auto hash = spec.rfind('#');
  if (hash != std::string::npos && hash + 1 < spec.size() &&
      spec.find_first_not_of("0123456789", hash + 1) == std::string::npos) {
    auto ds = open_dataset(spec.substr(0, hash));
    size_t k = std::stoull(spec.substr(hash + 1));
    if (k >= ds->size()) {
      throw Error(spec + ": item " + std::to_string(k) + " outside " + ds->describe());
    }
    return ds->load(k);
  }
  return decode_image(spec);
}

}  // namespace tension::data
