#include "tension/data/image_decode.h"

#include <algorithm>
#include <cstdint>
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

// PIL's limit (Image.MAX_IMAGE_PIXELS * 2, where it raises DecompressionBombError): OpenCV's own allows 2^30
// pixels, gigabytes allocated on the word of a header before the data is found missing.
constexpr uint64_t kMaxPixels = 178956970;

uint64_t be16(const unsigned char* p) { return (uint64_t(p[0]) << 8) | p[1]; }
uint64_t be32(const unsigned char* p) { return (be16(p) << 16) | be16(p + 2); }

// The pixel count a PNG or JPEG header declares; 0 for other formats or a header cut short (OpenCV judges those).
uint64_t declared_pixels(const std::vector<unsigned char>& b) {
  static const unsigned char kPng[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  size_t n = b.size();
  if (n >= 24 && std::equal(kPng, kPng + 8, b.begin()) && std::equal(b.begin() + 12, b.begin() + 16, "IHDR"))
    return be32(&b[16]) * be32(&b[20]);
  if (!looks_like_jpeg(b)) return 0;
  // The frame header (SOF0-SOF15 but DHT C4, JPG C8, DAC CC) precedes the first scan; segments are skipped by length
  // and, as libjpeg does, bytes between segments until the next 0xFF.
  size_t pos = 2;
  while (pos + 1 < n) {
    if (b[pos] != 0xFF) {
      ++pos;
      continue;
    }
    unsigned char marker = b[pos + 1];
    pos += 2;
    if (marker == 0xFF) {
      --pos;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;
    if (marker == 0xDA || marker == 0xD9 || pos + 2 > n) return 0;
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC)
      return pos + 7 <= n ? be16(&b[pos + 3]) * be16(&b[pos + 5]) : 0;
    pos += be16(&b[pos]);
  }
  return 0;
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
  if (uint64_t pixels = declared_pixels(bytes); pixels > kMaxPixels) {
    fail(path, "its header declares " + std::to_string(pixels) + " pixels, more than the " +
                   std::to_string(kMaxPixels) + " decoded (a decompression bomb?)");
  }
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
