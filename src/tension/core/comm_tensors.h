#pragma once
// Tensors between the ranks of an MPI job (core/comm.h), as torch's pickle bytes: what each rank computed, gathered
// on rank 0; what rank 0 holds, on every rank. Without a launcher both hand back what they were given.
#include <torch/torch.h>

#include <vector>

namespace tension::comm {

// Rank 0's tensors, on every rank.
std::vector<torch::Tensor> broadcast_tensors(const std::vector<torch::Tensor>& tensors);
// Every rank's tensors in rank order, on rank 0; empty on the others.
std::vector<std::vector<torch::Tensor>> gather_tensors(const std::vector<torch::Tensor>& mine);

}  // namespace tension::comm
