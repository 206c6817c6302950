#include "tension/data/image_decode.h"

#include <fstream>
#include <iterator>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "tension/core/error.h"
#include "tension/data/jpeg_integrity.h"

namespace tension::data {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& reason) {
  throw Error("cannot decode image " + path + ": " + reason);
}

std::vector<unsigned char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open the file");
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(path, "read error");
  if (bytes.empty()) fail(path, "the file is empty");
  return bytes;
}

bool looks_like_jpeg(const std::vector<unsigned char>& b) {
  return b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}

// OpenCV's samples, interleaved [H, W, C] with colour in B, G, R(, A) order, to RGB or grey [C, H, W].
torch::Tensor to_chw_rgb(const cv::Mat& m, const std::string& path) {
  if (m.depth() != CV_8U && m.depth() != CV_16U)
    fail(path, "unsupported sample type (only 8- and 16-bit images are read)");
  if (m.channels() > 4) fail(path, std::to_string(m.channels()) + " channels are not supported");
  // Integers convert to float exactly; dividing afterwards rounds like ToTensor's img.float().div(255).
  cv::Mat f;
  m.convertTo(f, CV_32F);
  auto hwc = torch::from_blob(f.data, {f.rows, f.cols, f.channels()}, torch::kFloat);
  // Grey (+ alpha) keeps its first channel; B, G, R(, A) becomes R, G, B.
  auto keep = torch::tensor(f.channels() <= 2 ? std::vector<int64_t>{0} : std::vector<int64_t>{2, 1, 0});
  return hwc.index_select(2, keep).permute({2, 0, 1}).contiguous().div_(m.depth() == CV_8U ? 255.0 : 65535.0);
}

}  // namespace

torch::Tensor decode_image(const std::string& path) {
  std::vector<unsigned char> bytes = read_bytes(path);
  if (looks_like_jpeg(bytes) && !jpeg_complete(bytes.data(), bytes.size()))
    fail(path, "truncated JPEG (no end-of-image marker)");
  cv::Mat m;
  try {
    // IMREAD_UNCHANGED keeps grey, 16-bit and alpha as stored and ignores EXIF orientation, as PIL does.
    m = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    fail(path, e.what());
  }
  if (m.empty()) fail(path, "not a recognised image format, or corrupt data");
  return to_chw_rgb(m, path);
}

}  // namespace tension::data
