#pragma once
// Tensors between the ranks of an MPI job (core/comm.h), as torch's pickle bytes: what each rank computed from its
// batches, gathered on rank 0; what rank 0 holds, on every rank. Without a launcher both hand back what they were
// given.
#include <torch/torch.h>

#include <vector>

namespace tension::comm {

// Rank 0's tensors, on every rank.
std::vector<torch::Tensor> broadcast_tensors(const std::vector<torch::Tensor>& tensors);
// A batch of a pass shared by the ranks (comm::share_of): its number, and the tensors computed from it.
struct BatchTensors {
  int64_t batch = 0;
  std::vector<torch::Tensor> tensors;
};
// Every rank's batches, on rank 0, in batch order; empty on the others.
std::vector<BatchTensors> gather_batches(const std::vector<BatchTensors>& mine);

}  // namespace tension::comm
