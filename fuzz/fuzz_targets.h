#pragma once
// One entry per parser of outside bytes. libFuzzer drives them through main.cpp (LLVMFuzzerTestOneInput); the
// test suite replays fuzz/corpus/ and fuzz/regressions/ through the same functions without libFuzzer.
// Each returns 0 when the parser accepted the bytes and 1 when it refused them with a tension::Error (the
// expected outcome for bad input); anything else escapes, so that libFuzzer or the test reports it.
#include <cstddef>
#include <cstdint>
#include <string>

namespace tension::fuzz {

int fuzz_idx(const uint8_t* data, size_t size);        // data::read_idx
int fuzz_jpeg(const uint8_t* data, size_t size);       // data::jpeg_complete
int fuzz_image(const uint8_t* data, size_t size);      // data::decode_image
int fuzz_pth(const uint8_t* data, size_t size);        // model::read_tensor_dict on the bytes as a file
int fuzz_unpickle(const uint8_t* data, size_t size);   // the same, the bytes being data.pkl of a valid archive
int fuzz_npy(const uint8_t* data, size_t size);        // read_npy
int fuzz_feature(const uint8_t* data, size_t size);    // feature::parse_feature
int fuzz_tap(const uint8_t* data, size_t size);        // model::parse_tap
int fuzz_run_store(const uint8_t* data, size_t size);  // store::RunStore::open and its readers

// The message of the last refusal (empty after an acceptance).
const std::string& last_refusal();

}  // namespace tension::fuzz
