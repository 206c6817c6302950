#pragma once
// Small helpers shared by the tests: where the Python fixtures wrote their files, and tensor comparison.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tension/core/error.h"

namespace tension::testing {

std::string testdata(const std::string& rel);     // $TENSION_TESTDATA/rel
std::string source_dir(const std::string& rel);   // $TENSION_SOURCE_DIR/rel
std::string cli_binary();                          // $TENSION_BINARY (the built `tension` executable)
std::string temp_dir(const std::string& name);    // a fresh empty directory under the test data folder

// A dict of tensors written by Python's torch.save({...}) (the fixtures' reference files).
std::map<std::string, torch::Tensor> load_tensor_dict(const std::string& path);

// max |a-b| / max(max|b|, floor): the relative error used by the oracle tests.
double max_rel_err(const torch::Tensor& a, const torch::Tensor& b, double floor = 1e-12);

// A JSON file (a run.json); a test failure when it cannot be read.
nlohmann::json read_json(const std::string& path);
// The rows of a CSV without quoted fields, after its header (into *header when given); a trailing comma ends a row
// with an empty field.
std::vector<std::vector<std::string>> read_csv(const std::string& path, std::string* header = nullptr);

// Two run stores hold the same configuration, layout, images (index, id, label, error) and attribution rows, every
// value and map within 1e-6 relative: the store of a pass split some way against the store of one plain pass.
void expect_same_store(const std::string& reference_run, const std::string& run);

// Runs a shell command, returns its exit status; stdout+stderr are captured into *output when given.
int run_command(const std::string& cmd, std::string* output = nullptr);

// The message of the tension::Error that f throws; a test failure when it throws nothing or something else.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const tension::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected tension::Error, got: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected tension::Error, nothing was thrown";
  return {};
}

}  // namespace tension::testing
