#include "tension/core/comm_tensors.h"

#include <torch/csrc/jit/serialization/pickle.h>

#include <map>
#include <string>

#include "tension/core/comm.h"

namespace tension::comm {

namespace {

std::string to_bytes(const std::vector<torch::Tensor>& tensors) {
  c10::List<at::Tensor> list;
  for (const auto& t : tensors) list.push_back(t.detach().to(torch::kCPU).contiguous());
  const auto bytes = torch::jit::pickle_save(list);
  return std::string(bytes.begin(), bytes.end());
}

std::vector<torch::Tensor> from_bytes(const std::string& bytes) {
  const auto list = torch::jit::pickle_load(std::vector<char>(bytes.begin(), bytes.end())).toTensorList();
  std::vector<torch::Tensor> out;
  for (size_t i = 0; i < list.size(); ++i) out.push_back(list.get(i));
  return out;
}

// Every rank's tensors in rank order, on rank 0; empty on the others.
std::vector<std::vector<torch::Tensor>> gather_tensors(const std::vector<torch::Tensor>& mine) {
  if (size() == 1) return {mine};
  std::vector<std::vector<torch::Tensor>> out;
  for (const auto& bytes : gather(to_bytes(mine))) out.push_back(from_bytes(bytes));
  return out;
}

}  // namespace

std::vector<torch::Tensor> broadcast_tensors(const std::vector<torch::Tensor>& tensors) {
  if (size() == 1) return tensors;
  return from_bytes(broadcast(leader() ? to_bytes(tensors) : std::string()));
}

// Each batch travels as a header [number, tensor count], then its tensors.
std::vector<BatchTensors> gather_batches(const std::vector<BatchTensors>& mine) {
  std::vector<torch::Tensor> flat;
  for (const auto& b : mine) {
    flat.push_back(torch::tensor({b.batch, static_cast<int64_t>(b.tensors.size())}, torch::kLong));
    flat.insert(flat.end(), b.tensors.begin(), b.tensors.end());
  }
  std::map<int64_t, std::vector<torch::Tensor>> by_number;
  for (const auto& rank_flat : gather_tensors(flat)) {
    for (size_t k = 0; k < rank_flat.size();) {
      const int64_t number = rank_flat[k][0].item<int64_t>(), count = rank_flat[k][1].item<int64_t>();
      const auto first = rank_flat.begin() + static_cast<std::ptrdiff_t>(k + 1);
      by_number[number].assign(first, first + count);
      k += 1 + static_cast<size_t>(count);
    }
  }
  std::vector<BatchTensors> out;
  for (auto& [number, tensors] : by_number) out.push_back({number, std::move(tensors)});
  return out;
}

}  // namespace tension::comm
