// NPY files against numpy: files numpy wrote read back with the same values; files tension wrote load
// in numpy with the same values.
#include <gtest/gtest.h>

#include "tension/core/error.h"
#include "tension/core/npy.h"
#include "testing.h"

using namespace tension;
using tension::testing::testdata;

TEST(Npy, ReadsWhatNumpyWrote) {
  auto f32 = read_npy(testdata("npy/f32.npy"));
  ASSERT_EQ(f32.sizes(), (std::vector<int64_t>{3, 4, 5}));
  auto f64 = read_npy(testdata("npy/f64_fortran.npy"));
  EXPECT_EQ(f64.scalar_type(), torch::kFloat64);
  EXPECT_TRUE(torch::equal(f64.to(torch::kFloat32), f32)) << "Fortran order is transposed back";
  auto i64 = read_npy(testdata("npy/i64_big.npy"));
  EXPECT_TRUE(torch::equal(i64, torch::arange(12).view({3, 4}))) << "big-endian bytes are swapped";
  auto u8 = read_npy(testdata("npy/u8.npy"));
  EXPECT_EQ(u8[9].item<int>(), 225);
  auto scalar = read_npy(testdata("npy/scalar_f32.npy"));
  EXPECT_EQ(scalar.dim(), 0);
  EXPECT_EQ(scalar.item<float>(), 2.5f);
}

TEST(Npy, NumpyReadsWhatTensionWrote) {
  auto dir = tension::testing::temp_dir("npy");
  auto t = torch::linspace(-1, 1, 24).view({2, 3, 4});
  write_npy(dir + "/out.npy", t);
  write_npy(dir + "/one.npy", torch::tensor({7}, torch::kInt64));
  EXPECT_TRUE(torch::equal(read_npy(dir + "/out.npy"), t));
  std::string out;
  int rc = tension::testing::run_command(
      "/usr/bin/python3 -c \"import numpy as np; a=np.load('" + dir +
          "/out.npy'); b=np.load('" + dir + "/one.npy'); "
          "assert a.shape==(2,3,4) and a.dtype==np.float32; "
          "assert np.allclose(a.ravel(), np.linspace(-1,1,24)); assert b.shape==(1,) and b[0]==7; print('ok')\"",
      &out);
  EXPECT_EQ(rc, 0) << out;
}

TEST(Npy, TruncatedOrForeignFilesAreClearErrors) {
  EXPECT_THROW(read_npy(testdata("npy/truncated.npy")), Error);
  EXPECT_THROW(read_npy(tension::testing::source_dir("README.md")), Error);
  EXPECT_THROW(read_npy("/no/such.npy"), Error);
  EXPECT_THROW(write_npy(testdata("npy/x.npy"), torch::zeros({2}, torch::kFloat16)), Error);
}
