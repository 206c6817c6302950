#include "tension/core/comm_tensors.h"

#include <torch/csrc/jit/serialization/pickle.h>

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

}  // namespace

std::vector<torch::Tensor> broadcast_tensors(const std::vector<torch::Tensor>& tensors) {
  if (size() == 1) return tensors;
  return from_bytes(broadcast(leader() ? to_bytes(tensors) : std::string()));
}

std::vector<std::vector<torch::Tensor>> gather_tensors(const std::vector<torch::Tensor>& mine) {
  if (size() == 1) return {mine};
  std::vector<std::vector<torch::Tensor>> out;
  for (const auto& bytes : gather(to_bytes(mine))) out.push_back(from_bytes(bytes));
  return out;
}

}  // namespace tension::comm
