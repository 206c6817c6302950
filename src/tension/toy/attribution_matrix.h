#pragma once
// Attribution matrices of a toy model (paper §6, Fig. 7): for probe inputs that each express one feature,
// E+ and E- (eq. 2) of every output's pre-activation f_j = (W2 h + b2)_j at the hidden layer h. abs probes
// are +e_i and -e_i; XOR probes are the pair patterns [1,0]_i and [1,1]_i.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "tension/toy/toy_model.h"
#include "tension/toy/toy_task.h"

namespace tension::toy {

struct Probes {
  torch::Tensor x;                  // [P, inputs]
  std::vector<std::string> names;   // "+e1", "-e1", "[1,0]_1", "[1,1]_1", ... (features counted from 1)
  std::vector<int> feature;         // the feature each probe expresses: its diagonal column
};

// abs: +e_1..+e_n then -e_1..-e_n; XOR: [1,0]_1..[1,0]_n then [1,1]_1..[1,1]_n.
Probes probe_inputs(const ToyTask& task);

struct AttributionMatrix {
  Probes probes;
  torch::Tensor e_pos, e_neg;  // [P, outputs]: element (i, j) = E+/- of f_j for probe i
  torch::Tensor f_pre;         // [P, outputs]: f_j itself (E+ - E- = f_j - b2_j, eq. 1-2 completeness)
};

AttributionMatrix attribution_matrix(const ToyTask& task, const ToyModel& m);

// Fig. 7's normalisation: every column divided by its largest E+ or E- (a zero column stays zero).
std::pair<torch::Tensor, torch::Tensor> normalise_columns(const AttributionMatrix& a);

// E+ + E- on the diagonal (probe i, its own feature's column) and off it, summed; ratio = off / diagonal.
struct DiagonalMass {
  double diagonal = 0, off_diagonal = 0, ratio = 0;
};
DiagonalMass diagonal_mass(const AttributionMatrix& a);

// Per probe, min(E+, E-) / max(E+, E-) on its own feature's column: 1 when excitation and inhibition are
// equal (the XOR [1,1]_i motif), 0 when one of them is absent.
std::vector<double> diagonal_tension(const AttributionMatrix& a);

}  // namespace tension::toy
