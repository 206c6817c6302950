#include "fuzz_targets.h"

#include <caffe2/serialize/inline_container.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tension/core/error.h"
#include "tension/core/npy.h"
#include "tension/data/idx_file.h"
#include "tension/data/image_decode.h"
#include "tension/data/jpeg_integrity.h"
#include "tension/feature/feature.h"
#include "tension/model/tap.h"
#include "tension/model/zoo/unpickler.h"
#include "tension/store/run_store.h"

namespace tension::fuzz {

namespace fs = std::filesystem;

namespace {

std::string& refusal() {
  static std::string message;
  return message;
}

// A folder of this process's own for the files the parsers read, removed when the process ends.
const fs::path& scratch() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("tension-fuzz-" + std::to_string(getpid()));
    fs::create_directories(d);
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(scratch(), ec);
    });
    // The one .npy a fuzzed feature spec may name (as @dirs.npy): 3 directions of 4 channels.
    write_npy((d / "dirs.npy").string(), torch::arange(12, torch::kFloat32).reshape({3, 4}));
    return d;
  }();
  return dir;
}

std::string write_file(const std::string& name, const void* data, size_t size) {
  std::string path = (scratch() / name).string();
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!f) throw std::runtime_error("fuzz: cannot write " + path);
  return path;
}

// Runs one parse: 0 when it accepts, 1 when it refuses with tension::Error; other exceptions escape.
template <typename F>
int guarded(F&& parse) {
  refusal().clear();
  try {
    parse();
    return 0;
  } catch (const Error& e) {
    refusal() = e.what();
    return 1;
  }
}

// Reads every element, so that a view reaching outside its storage shows.
void touch(const torch::Tensor& t) { (void)t.clone().sum().item<double>(); }

}  // namespace

const std::string& last_refusal() { return refusal(); }

int fuzz_idx(const uint8_t* data, size_t size) {
  std::string path = write_file("input.idx", data, size);
  return guarded([&] { data::read_idx(path); });
}

int fuzz_jpeg(const uint8_t* data, size_t size) {
  // The walker reads the bytes in place: a copy of exactly `size` bytes lets AddressSanitizer see any overread.
  std::vector<unsigned char> copy(data, data + size);
  return data::jpeg_complete(copy.data(), copy.size()) ? 0 : 1;
}

int fuzz_image(const uint8_t* data, size_t size) {
  std::string path = write_file("input.img", data, size);
  return guarded([&] { touch(data::decode_image(path)); });
}

int fuzz_pth(const uint8_t* data, size_t size) {
  std::string path = write_file("input.pth", data, size);
  return guarded([&] {
    for (const auto& entry : model::read_tensor_dict(path)) touch(entry.second);
  });
}

int fuzz_unpickle(const uint8_t* data, size_t size) {
  // A well-formed archive around the fuzzed pickle, with the storages a state dict's pickle names ('0', '1').
  std::string path = (scratch() / "unpickle.pth").string();
  {
    caffe2::serialize::PyTorchStreamWriter writer(path);
    writer.writeRecord("data.pkl", data, size);
    std::vector<float> floats(16, 1.5f);
    writer.writeRecord("data/0", floats.data(), floats.size() * sizeof(float));
    std::vector<int64_t> longs(4, 7);
    writer.writeRecord("data/1", longs.data(), longs.size() * sizeof(int64_t));
    writer.writeEndOfFile();
  }
  return guarded([&] {
    for (const auto& entry : model::read_tensor_dict(path)) touch(entry.second);
  });
}

int fuzz_npy(const uint8_t* data, size_t size) {
  std::string path = write_file("input.npy", data, size);
  return guarded([&] { touch(read_npy(path)); });
}

int fuzz_feature(const uint8_t* data, size_t size) {
  std::string spec(reinterpret_cast<const char*>(data), size);
  // A spec may name a .npy (LAYER:@FILE): only files of the scratch folder may be read, so no path is allowed
  // and every file name is taken inside that folder.
  if (spec.find('/') != std::string::npos) return 0;
  const std::string folder = ":@" + scratch().string() + "/";
  std::string rooted;
  for (size_t i = 0; i < spec.size(); ++i) {
    if (spec.compare(i, 2, ":@") == 0) {
      rooted += folder;
      ++i;
    } else {
      rooted += spec[i];
    }
  }
  return guarded([&] {
    feature::Feature f = feature::parse_feature(rooted);
    if (f.direction.defined()) touch(f.direction);
  });
}

int fuzz_tap(const uint8_t* data, size_t size) {
  std::string spec(reinterpret_cast<const char*>(data), size);
  return guarded([&] { model::parse_tap(spec); });
}

int fuzz_run_store(const uint8_t* data, size_t size) {
  fs::path run = scratch() / "run";
  fs::create_directories(run);
  // A journal left by the previous input would be replayed into this one.
  for (const char* suffix : {"-wal", "-shm", "-journal"}) fs::remove(store::RunStore::db_path(run.string()) + suffix);
  write_file("run/store.sqlite", data, size);
  return guarded([&] {
    auto s = store::RunStore::open(run.string());
    (void)s->config().dump();
    (void)s->meta("layout").dump();
    (void)s->stored_images();
    (void)s->count_attributions();
    (void)s->images();
    (void)s->attributions(true);
  });
}

}  // namespace tension::fuzz
