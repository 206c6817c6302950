#pragma once
// Datasets: image folders, IDX files (Fashion-MNIST), synthetic generators. Items are decoded on demand
// so that a pass can decode in parallel, skip what is unreadable, and resume from any index.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace tension::data {

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual size_t size() const = 0;
  // Stable identifier of item i: its path for image folders, "FILE#i" for IDX, "synthetic:NAME?PARAMS#i"
  // (all parameters spelled out, so that two synthetic datasets share no id).
  virtual std::string id(size_t i) const = 0;
  // Class label, or -1 when the dataset has none (image folders: index of the top-level sub-folder, sorted).
  virtual int64_t label(size_t i) const = 0;
  // Names of the classes, indexed by label (may be empty).
  virtual std::vector<std::string> class_names() const = 0;
  // Decoded image as float [C, H, W] in [0, 1], C = 1 or 3, at its stored size. Thread-safe.
  // Throws tension::Error when the item cannot be read or decoded.
  virtual torch::Tensor load(size_t i) const = 0;
  // Short human description ("image folder /x (1234 images)").
  virtual std::string describe() const = 0;
};

// SHA-256 over the ids and labels in order: identifies the dataset listing in run manifests.
std::string listing_hash(const Dataset& ds);

// Opens a dataset from a spec:
//   DIR                                    image folder (recursive, sorted paths; .jpg .jpeg .png .bmp ...)
//   FILE-images-idx3-ubyte[.gz]            IDX images; labels from the matching *-labels-idx1-ubyte[.gz]
//   fashion-mnist | fashion-mnist:test     Debian's dataset-fashion-mnist (test split by default)
//   fashion-mnist:train
//   synthetic:NAME[?n=N&size=S&channels=C&seed=K]   generators for tests (see synthetic.h)
// Throws tension::Error for a missing path, an empty folder or a malformed file.
std::unique_ptr<Dataset> open_dataset(const std::string& spec);

// One image: a file, or item K of a dataset written DATASET#K (e.g. fashion-mnist:test#12); [C, H, W] in [0, 1].
// Throws tension::Error for an unreadable file or an item outside the dataset.
torch::Tensor load_image(const std::string& spec);

}  // namespace tension::data
