// One libFuzzer target: TENSION_FUZZ_ENTRY names its entry function in fuzz_targets.h (fuzz/CMakeLists.txt).
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tension::fuzz::TENSION_FUZZ_ENTRY(data, size);
  return 0;
}
