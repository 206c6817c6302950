#include "tension/model/zoo/state_dict.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "tension/core/error.h"

namespace tension::model {

namespace {

std::string key_list(const std::vector<std::string>& keys) {
  constexpr size_t kShown = 8;
  std::string s;
  for (size_t i = 0; i < keys.size() && i < kShown; ++i) s += (i ? ", " : "") + keys[i];
  if (keys.size() > kShown) s += ", ... (" + std::to_string(keys.size() - kShown) + " more)";
  return s;
}

}  // namespace

TensorDict state_dict(const torch::nn::Module& module) {
  TensorDict out;
  for (const auto& item : module.named_modules()) {
    std::string prefix = item.key().empty() ? "" : item.key() + ".";
    for (const auto& p : item.value()->named_parameters(/*recurse=*/false))
      out.emplace_back(prefix + p.key(), p.value());
    for (const auto& b : item.value()->named_buffers(/*recurse=*/false)) out.emplace_back(prefix + b.key(), b.value());
  }
  return out;
}

void write_tensor_dict(const TensorDict& entries, const std::string& path) {
  c10::Dict<std::string, torch::Tensor> dict;
  for (const auto& [key, t] : entries) dict.insert(key, t.detach().cpu());
  std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
  // Written beside the target and renamed, so that a failed write never leaves a truncated weights file.
  std::string tmp = path + ".part";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) throw Error("cannot write weights file " + path);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw Error("cannot write weights file " + path + ": " + ec.message());
}

void save_state_dict(const torch::nn::Module& module, const std::string& path) {
  write_tensor_dict(state_dict(module), path);
}

void load_state_dict(torch::nn::Module& module, const std::string& path, const std::string& model_name) {
  TensorDict file = read_tensor_dict(path);
  TensorDict own = state_dict(module);
  std::map<std::string, torch::Tensor> from_file(file.begin(), file.end());
  std::set<std::string> own_keys;
  std::vector<std::string> missing, unexpected;
  for (const auto& entry : own) {
    own_keys.insert(entry.first);
    if (!from_file.count(entry.first)) missing.push_back(entry.first);
  }
  for (const auto& entry : file) {
    if (!own_keys.count(entry.first)) unexpected.push_back(entry.first);
  }
  if (!missing.empty() || !unexpected.empty()) {
    std::string msg = "weights file " + path + " does not fit model " + model_name + ":";
    if (!missing.empty()) msg += " missing keys: " + key_list(missing) + ";";
    if (!unexpected.empty()) msg += " unexpected keys: " + key_list(unexpected) + ";";
    msg.pop_back();
    throw Error(msg);
  }
  for (const auto& [key, t] : own) {
    const auto& src = from_file.at(key);
    if (src.sizes() != t.sizes()) {
      throw Error("weights file " + path + " does not fit model " + model_name + ": '" + key + "' has shape " +
                  c10::str(src.sizes()) + " in the file but " + c10::str(t.sizes()) + " in the model");
    }
  }
  torch::NoGradGuard no_grad;
  for (auto& [key, t] : own) t.copy_(from_file.at(key));
}

}  // namespace tension::model
