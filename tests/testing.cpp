#include "testing.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "tension/store/run_store.h"

namespace tension::testing {

namespace {
std::string env_or(const char* name, const char* built_in) {
  const char* v = std::getenv(name);
  return v && *v ? v : built_in;
}
}  // namespace

std::string testdata(const std::string& rel) { return env_or("TENSION_TESTDATA", TENSION_TESTDATA) + "/" + rel; }
std::string source_dir(const std::string& rel) {
  return env_or("TENSION_SOURCE_DIR", TENSION_SOURCE_DIR) + "/" + rel;
}
std::string cli_binary() { return env_or("TENSION_BINARY", TENSION_BINARY); }

std::string temp_dir(const std::string& name) {
  std::filesystem::path p = std::filesystem::path(testdata("tmp")) / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

std::map<std::string, torch::Tensor> load_tensor_dict(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path + " (did the Python fixture run?)");
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::map<std::string, torch::Tensor> out;
  for (const auto& e : torch::pickle_load(bytes).toGenericDict()) out[e.key().toStringRef()] = e.value().toTensor();
  return out;
}

double max_rel_err(const torch::Tensor& a, const torch::Tensor& b, double floor) {
  auto ad = a.detach().to(torch::kFloat64).cpu();
  auto bd = b.detach().to(torch::kFloat64).cpu();
  if (ad.sizes() != bd.sizes()) throw std::runtime_error("max_rel_err: shapes differ");
  double scale = std::max(bd.abs().max().item<double>(), floor);
  return (ad - bd).abs().max().item<double>() / scale;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  EXPECT_TRUE(f.good()) << "cannot read " << path;
  return nlohmann::json::parse(f);
}

std::vector<std::vector<std::string>> read_csv(const std::string& path, std::string* header) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::string line;
  std::getline(in, line);
  if (header) *header = line;
  std::vector<std::vector<std::string>> rows;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, ',')) f.push_back(field);
    if (!line.empty() && line.back() == ',') f.emplace_back();
    rows.push_back(f);
  }
  return rows;
}

int run_command(const std::string& cmd, std::string* output) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return -1;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  if (output) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

namespace {

void expect_near_all(const std::vector<float>& a, const std::vector<float>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t k = 0; k < a.size(); ++k) {
    ASSERT_NEAR(a[k], b[k], 1e-6 * std::max(1.0f, std::abs(a[k]))) << what << " entry " << k;
  }
}

}  // namespace

void expect_same_store(const std::string& reference_run, const std::string& run) {
  auto ref = store::RunStore::open(reference_run), got = store::RunStore::open(run);
  EXPECT_EQ(got->config(), ref->config());
  EXPECT_EQ(got->meta("layout"), ref->meta("layout"));
  const auto ia = ref->images(), ib = got->images();
  ASSERT_EQ(ia.size(), ib.size()) << run;
  for (size_t i = 0; i < ia.size(); ++i) {
    EXPECT_EQ(ia[i].index, ib[i].index);
    EXPECT_EQ(ia[i].id, ib[i].id);
    EXPECT_EQ(ia[i].label, ib[i].label);
    EXPECT_EQ(ia[i].error, ib[i].error);
  }
  const auto a = ref->attributions(true), b = got->attributions(true);
  ASSERT_EQ(a.size(), b.size()) << run;
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string row = run + " row " + std::to_string(i);
    ASSERT_EQ(a[i].image, b[i].image) << row;
    ASSERT_EQ(a[i].feature, b[i].feature) << row;
    ASSERT_EQ(a[i].layer, b[i].layer) << row;
    for (auto [x, y] : {std::pair{a[i].fv, b[i].fv}, {a[i].e, b[i].e}, {a[i].e_pos, b[i].e_pos},
                        {a[i].e_neg, b[i].e_neg}, {a[i].l1, b[i].l1}, {a[i].l2, b[i].l2}, {a[i].l21, b[i].l21}}) {
      ASSERT_NEAR(x, y, 1e-6 * std::max(1.0, std::abs(x))) << row;
    }
    expect_near_all(a[i].phi_pos, b[i].phi_pos, row + " phi+");
    expect_near_all(a[i].phi_neg, b[i].phi_neg, row + " phi-");
    expect_near_all(a[i].channels, b[i].channels, row + " channels");
    expect_near_all(a[i].s, b[i].s, row + " S");
  }
}

}  // namespace tension::testing
