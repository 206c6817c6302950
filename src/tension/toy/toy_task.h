#pragma once
// The two toy tasks of paper §6 / App. G: abs(x) on n features and XOR on n pairs of inputs, with their
// sparse input distributions and importances. Defaults follow the paper's code where it differs from the
// text (reference/paper-code-facts.md §2.12); the text's values are options.
#include <string>
#include <vector>

namespace tension::toy {

enum class TaskKind { Abs, Xor };

struct ToyTask {
  TaskKind kind = TaskKind::Abs;
  int features = 6;           // n: outputs f_1..f_n
  double p_on = 0.01;         // probability that a feature is on (the code: abs 0.01, xor 0.05)
  bool unit_values = false;   // abs: an on feature is U[0,1) (the paper's text) instead of U(-1,1) (the code)
  double importance_decay = 0.9;  // I_i = decay^i, i = 0..n-1 (eq. 9)

  // "abs" or "xor" with the code's defaults; throws tension::Error for anything else.
  static ToyTask named(const std::string& name);
  std::string name() const { return kind == TaskKind::Abs ? "abs" : "xor"; }
  int inputs() const { return kind == TaskKind::Abs ? features : 2 * features; }
  std::vector<float> importance() const;
  // The ground truth f(x) for one dense input row x[0..inputs()): abs(x_i), or XOR(x_2i, x_2i+1) on the
  // interleaved pairs. Writes features() values.
  void target(const float* x, float* f) const;
  // Throws tension::Error when a field is out of range (features 1..8, p_on in (0, 1], decay > 0).
  void validate() const;
};

}  // namespace tension::toy
