#pragma once
// The two toy tasks of paper §6 / App. G: abs(x) on n features and XOR on n pairs of inputs, with their
// sparse input distributions and importances. Where the paper's text leaves a setting open or its code differs
// (docs/paper-vs-code.md), two presets: `paper`, the default, the settings under which the paper's figures are
// reproduced, and `code`, the released code's.
#include <string>
#include <vector>

namespace tension::toy {

enum class TaskKind { Abs, Xor };

// paper: abs p_on 0.1 (under the code's 0.01 no abs m = 12 model is perfect or diagonal), XOR p_on 0.05.
// code: the released scripts, abs p_on 0.01, XOR p_on 0.05.
enum class ToyPreset { Paper, Code };
ToyPreset parse_preset(const std::string& name);  // "paper" or "code"; throws tension::Error otherwise
std::string preset_name(ToyPreset p);

struct ToyTask {
  TaskKind kind = TaskKind::Abs;
  int features = 6;           // n: outputs f_1..f_n
  double p_on = 0.1;          // probability that a feature is on (presets: abs 0.1 paper, 0.01 code; xor 0.05)
  bool unit_values = false;   // abs: an on feature is U[0,1) (the paper's text) instead of U(-1,1) (the code)
  double importance_decay = 0.9;  // I_i = decay^i, i = 0..n-1 (eq. 9)

  // "abs" or "xor" with a preset's settings; throws tension::Error for anything else.
  static ToyTask named(const std::string& name, ToyPreset preset = ToyPreset::Paper);
  std::string name() const { return kind == TaskKind::Abs ? "abs" : "xor"; }
  // b1 of eq. 7 as the paper's code has it: none in the abs model, trained in the XOR one.
  bool code_hidden_bias() const { return kind == TaskKind::Xor; }
  int inputs() const { return kind == TaskKind::Abs ? features : 2 * features; }
  std::vector<float> importance() const;
  // The ground truth f(x) for one dense input row x[0..inputs()): abs(x_i), or XOR(x_2i, x_2i+1) on the
  // interleaved pairs. Writes features() values.
  void target(const float* x, float* f) const;
  // Throws tension::Error when a field is out of range (features 1..8, p_on in (0, 1], decay > 0).
  void validate() const;
};

}  // namespace tension::toy
