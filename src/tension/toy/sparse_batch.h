#pragma once
// A batch of toy inputs as the fused trainer reads it: the batch's distinct rows with their multiplicities,
// each row's non-zero inputs and its target. Toy inputs are sparse (most rows are all zero, and the XOR
// task's rows repeat), and the loss is a sum over rows, so a distinct row counted k times contributes k times
// its loss and gradient: the same mathematics as the dense batch, at the cost of its distinct rows only.
#include <cstdint>
#include <vector>

namespace tension::toy {

// Outputs are padded to this many with zero weights and zero importance (see fused_mlp.h).
constexpr int kOutputPad = 8;

struct SparseBatch {
  int64_t rows = 0;                // the batch size B, every row counted: the loss is a mean over B
  std::vector<float> weight;       // per distinct row: how many rows of the batch it stands for
  std::vector<int32_t> begin{0};   // distinct row r has the entries [begin[r], begin[r+1]) (none: all zero)
  std::vector<int32_t> input;      // entry: which input is non-zero
  std::vector<float> value;        // entry: its value
  std::vector<float> target;       // per distinct row: kOutputPad targets (zero past the task's outputs)

  int64_t distinct() const { return static_cast<int64_t>(weight.size()); }
  // Appends a distinct row from its first `outputs` targets; its entries are appended with add_entry first.
  void close_row(float multiplicity, const float* targets, int outputs) {
    weight.push_back(multiplicity);
    begin.push_back(static_cast<int32_t>(input.size()));
    for (int i = 0; i < kOutputPad; ++i) target.push_back(i < outputs ? targets[i] : 0.f);
  }
  void add_entry(int32_t in, float v) {
    input.push_back(in);
    value.push_back(v);
  }
};

}  // namespace tension::toy
