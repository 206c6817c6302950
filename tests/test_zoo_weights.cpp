// Zoo weights: the state-dict reader on every tensor form Python writes, save/load round trips, Python reading
// the files C++ writes, weights ids, and clear errors for bad files.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "tension/core/error.h"
#include "tension/core/sha256.h"
#include "tension/model/zoo/state_dict.h"
#include "test_zoo_util.h"

namespace tension::testing {
namespace {

#define EXPECT_ERROR_HAS(msg, text) EXPECT_NE((msg).find(text), std::string::npos) << (msg)

TEST(ZooWeights, ReadsEveryTensorFormPythonWrites) {
  auto t = zoo_ref("tensors.pt");
  auto x = torch::arange(12, torch::kFloat).reshape({3, 4});
  EXPECT_TRUE(t.at("x").equal(x));
  EXPECT_TRUE(t.at("transposed").equal(x.t()));
  EXPECT_EQ(t.at("transposed").strides(), x.t().strides());
  EXPECT_TRUE(t.at("row").equal(x[1]));
  EXPECT_TRUE(t.at("column").equal(x.select(1, 2)));
  EXPECT_EQ(t.at("column").storage_offset(), 2);
  EXPECT_EQ(t.at("half").scalar_type(), torch::kHalf);
  EXPECT_TRUE(t.at("half").to(torch::kFloat).equal(x));
  EXPECT_TRUE(t.at("double").equal(x.to(torch::kDouble) / 3));
  EXPECT_TRUE(t.at("long").equal(torch::arange(-3, 3)));
  EXPECT_TRUE(t.at("bool").equal(x > 5));
  EXPECT_EQ(t.at("scalar").dim(), 0);
  EXPECT_EQ(t.at("scalar").item<float>(), -2.5f);
  EXPECT_EQ(t.at("empty").sizes(), (std::vector<int64_t>{0, 5}));
  EXPECT_TRUE(t.at("parameter").equal(torch::ones({2})));
  // Views of one storage stay views of one storage, as in Python.
  EXPECT_EQ(t.at("row").data_ptr<float>(), t.at("x").data_ptr<float>() + 4);
}

TEST(ZooWeights, KeepsFileOrder) {
  auto entries = model::read_tensor_dict(testdata("zoo/tensors.pt"));
  std::vector<std::string> keys;
  for (const auto& e : entries) keys.push_back(e.first);
  EXPECT_EQ(keys, (std::vector<std::string>{"x", "transposed", "row", "column", "half", "double", "long", "bool",
                                            "scalar", "empty", "parameter"}));
}

// Non-default buffers, so that a round trip that dropped them would show.
void randomize_buffers(torch::nn::Module& m) {
  torch::NoGradGuard no_grad;
  for (auto& b : m.named_buffers()) {
    if (b.key().find("running_var") != std::string::npos) b.value().uniform_(0.5, 1.5);
    if (b.key().find("running_mean") != std::string::npos) b.value().uniform_(-0.5, 0.5);
    if (b.key().find("num_batches_tracked") != std::string::npos) b.value().fill_(11);
  }
}

TEST(ZooWeights, SaveLoadRoundTripAndWeightsId) {
  auto dir = temp_dir("zoo_round_trip");
  auto a = zoo_model("fmnist-cnn-bn", "", 5);
  EXPECT_EQ(a->weights_id(), "random-init:5");
  randomize_buffers(as_zoo(*a).module());
  std::string path = dir + "/w.pt";
  as_zoo(*a).save_weights(path);
  EXPECT_FALSE(std::filesystem::exists(path + ".part"));

  auto b = zoo_model("fmnist-cnn-bn", path, 6);
  EXPECT_EQ(b->weights_id(), sha256_file(path));
  auto x = example_input(*a, 4);
  EXPECT_TRUE(a->run(x, {}, run_options(true)).output.equal(b->run(x, {}, run_options(true)).output));
  auto sa = model::state_dict(as_zoo(*a).module());
  auto sb = model::state_dict(as_zoo(*b).module());
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i].first, sb[i].first);
    EXPECT_TRUE(sa[i].second.equal(sb[i].second)) << sa[i].first;
    EXPECT_EQ(sa[i].second.scalar_type(), sb[i].second.scalar_type()) << sa[i].first;
  }
  for (const auto& p : as_zoo(*b).module().parameters()) EXPECT_FALSE(p.requires_grad());

  // A different seed gives different weights; the same seed the same ones.
  auto c = zoo_model("fmnist-cnn-bn", "", 6), d = zoo_model("fmnist-cnn-bn", "", 6);
  EXPECT_FALSE(model::state_dict(as_zoo(*c).module())[0].second.equal(sa[0].second));
  EXPECT_TRUE(model::state_dict(as_zoo(*c).module())[0].second.equal(model::state_dict(as_zoo(*d).module())[0].second));
}

// Python's torch.load reads what save_weights writes; the independent Python model, loaded strictly with
// it, gives the logits the C++ model gave.
TEST(ZooWeights, PythonLoadsCppWeights) {
  auto dir = temp_dir("zoo_python_loads");
  for (const auto& [name, kind] : std::vector<std::pair<std::string, std::string>>{{"inception-v1", "inception"},
                                                                                   {"fmnist-cnn-bn", "fmnist-bn"}}) {
    SCOPED_TRACE(name);
    auto m = zoo_model(name, "", 8);
    randomize_buffers(as_zoo(*m).module());
    std::string weights = dir + "/" + kind + ".pt", refs = dir + "/" + kind + "_ref.pt";
    as_zoo(*m).save_weights(weights);
    auto x = example_input(*m, 2);
    model::write_tensor_dict({{"input", x}, {"logits", m->run(x, {}, run_options(true)).output}}, refs);
    std::string out;
    int rc = run_command("/usr/bin/python3 " + source_dir("tests/python/zoo_check_cpp_weights.py") + " " + kind + " " +
                             weights + " " + refs,
                         &out);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("max_rel_err"), std::string::npos) << out;
  }
}

TEST(ZooWeights, MissingUnreadableAndForeignFiles) {
  auto dir = temp_dir("zoo_bad_files");
  auto msg = error_of([&] { zoo_model("fmnist-cnn", dir + "/nope.pt"); });
  EXPECT_ERROR_HAS(msg, "weights file not found: " + dir + "/nope.pt");

  std::ofstream(dir + "/garbage.pt") << "this is not a zip archive";
  msg = error_of([&] { zoo_model("fmnist-cnn", dir + "/garbage.pt"); });
  EXPECT_ERROR_HAS(msg, "cannot be read as a torch.save archive");

  // A file cut short loses the zip directory at its end.
  std::ifstream in(testdata("zoo/fmnist_cnn.pt"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(dir + "/truncated.pt", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  msg = error_of([&] { zoo_model("fmnist-cnn", dir + "/truncated.pt"); });
  EXPECT_ERROR_HAS(msg, dir + "/truncated.pt");

  msg = error_of([&] { zoo_model("fmnist-cnn", testdata("zoo/list.pt")); });
  EXPECT_ERROR_HAS(msg, "holds a list, not a dict of tensors");

  msg = error_of([&] { zoo_model("fmnist-cnn", dir); });
  EXPECT_ERROR_HAS(msg, "not a regular file");
}

TEST(ZooWeights, KeyAndShapeMismatchesNameTheKeys) {
  auto dir = temp_dir("zoo_mismatch");
  auto good = model::read_tensor_dict(testdata("zoo/fmnist_cnn.pt"));
  ASSERT_NO_THROW(zoo_model("fmnist-cnn", testdata("zoo/fmnist_cnn.pt")));

  auto missing = good;
  missing.erase(std::remove_if(missing.begin(), missing.end(), [](auto& e) { return e.first == "fc2.bias"; }),
                missing.end());
  model::write_tensor_dict(missing, dir + "/missing.pt");
  auto msg = error_of([&] { zoo_model("fmnist-cnn", dir + "/missing.pt"); });
  EXPECT_ERROR_HAS(msg, "does not fit model fmnist-cnn: missing keys: fc2.bias");

  auto extra = good;
  extra.emplace_back("fc3.weight", torch::zeros({2, 2}));
  model::write_tensor_dict(extra, dir + "/extra.pt");
  msg = error_of([&] { zoo_model("fmnist-cnn", dir + "/extra.pt"); });
  EXPECT_ERROR_HAS(msg, "unexpected keys: fc3.weight");

  auto reshaped = good;
  for (auto& e : reshaped) {
    if (e.first == "conv1.weight") e.second = torch::zeros({16, 1, 3, 3});
  }
  model::write_tensor_dict(reshaped, dir + "/reshaped.pt");
  msg = error_of([&] { zoo_model("fmnist-cnn", dir + "/reshaped.pt"); });
  EXPECT_ERROR_HAS(msg, "'conv1.weight' has shape [16, 1, 3, 3] in the file but [32, 1, 3, 3] in the model");

  // Another model's weights: BatchNorm keys the plain model lacks.
  msg = error_of([&] { zoo_model("fmnist-cnn", testdata("zoo/fmnist_cnn_bn.pt")); });
  EXPECT_ERROR_HAS(msg, "unexpected keys: bn1.weight");
  msg = error_of([&] { zoo_model("inception-v1", testdata("zoo/fmnist_cnn.pt")); });
  EXPECT_ERROR_HAS(msg, "missing keys: conv2d0_pre_relu_conv.weight");
}

}  // namespace
}  // namespace tension::testing
