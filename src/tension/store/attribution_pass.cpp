#include "tension/store/attribution_pass.h"

#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "tension/core/error.h"
#include "tension/core/interrupt.h"
#include "tension/core/stopwatch.h"
#include "tension/data/loader.h"

namespace tension::store {

namespace {

std::vector<float> to_floats(const torch::Tensor& t) {
  if (!t.defined()) return {};
  auto c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// A [N] tensor as doubles on the CPU, read once per batch rather than element by element.
std::vector<double> to_doubles(const torch::Tensor& t) {
  auto c = t.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

// Which value of a row is NaN or Inf ("f_v = nan"); empty when all are finite.
std::string non_finite(const AttributionRecord& r) {
  const std::pair<const char*, double> scalars[] = {{"f_v", r.fv}, {"E", r.e},   {"E+", r.e_pos}, {"E-", r.e_neg},
                                                    {"L1", r.l1},  {"L2", r.l2}, {"L2,1", r.l21}};
  for (const auto& [name, v] : scalars) {
    if (!std::isfinite(v)) return fmt::format("{} = {}", name, v);
  }
  const std::pair<const char*, const std::vector<float>*> maps[] = {
      {"phi+", &r.phi_pos}, {"phi-", &r.phi_neg}, {"S summed over positions", &r.channels}, {"S", &r.s}};
  for (const auto& [name, m] : maps) {
    if (std::any_of(m->begin(), m->end(), [](float v) { return !std::isfinite(v); })) {
      return std::string(name) + " has NaN or Inf";
    }
  }
  return "";
}

}  // namespace

Shard parse_shard(const std::string& text) {
  Shard s;
  const auto slash = text.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument("no '/'");
    size_t used = 0;
    s.index = std::stoul(text.substr(0, slash), &used);
    if (used != slash) throw std::invalid_argument("index");
    s.count = std::stoul(text.substr(slash + 1), &used);
    if (used != text.size() - slash - 1) throw std::invalid_argument("count");
  } catch (const std::exception&) {
    throw Error("--shard '" + text + "': give I/N, this part's index I and the number of parts N (0/4 ... 3/4)");
  }
  if (s.count < 1 || s.index >= s.count || text[0] == '-' || text[slash + 1] == '-') {
    throw Error("--shard '" + text + "': the index must be below the number of parts (0/4 ... 3/4)");
  }
  return s;
}

std::vector<size_t> images_to_attribute(const data::Dataset& ds, const RunStore& store, const PassOptions& opt,
                                        PassReport& rep) {
  const size_t n = opt.limit ? std::min(opt.limit, ds.size()) : ds.size();
  std::vector<char> done(n, 0);
  for (int64_t i : store.stored_images()) {
    if (i >= 0 && static_cast<size_t>(i) < n) done[i] = 1;
  }
  std::vector<size_t> images;
  for (size_t i = 0; i < n; ++i) {
    if (!opt.shard.holds(i, opt.batch_size)) continue;
    if (done[i]) {
      ++rep.already_stored;
    } else {
      images.push_back(i);
    }
  }
  if (rep.already_stored) {
    spdlog::info("resuming: {} of {} images already stored", rep.already_stored, rep.already_stored + images.size());
  }
  return images;
}

PassReport run_attribution_pass(attribution::Attributor& attributor, const data::Dataset& ds, RunStore& store,
                                const PassOptions& opt) {
  PassReport rep;
  const auto images = images_to_attribute(ds, store, opt, rep);
  if (images.empty()) return rep;
  Progress bar("attribute", images.size(), "img");
  attribute_images(attributor, ds, store, images, opt, bar, rep);
  bar.finish();
  rep.seconds = bar.elapsed_seconds();
  return rep;
}

void attribute_images(attribution::Attributor& attributor, const data::Dataset& ds, RunStore& store,
                      const std::vector<size_t>& images, const PassOptions& opt, Progress& bar, PassReport& rep) {
  if (images.empty()) return;
  data::LoaderOptions lo;
  lo.batch_size = opt.batch_size;
  lo.threads = opt.decode_threads;
  lo.indices = images;
  data::BatchLoader loader(ds, attributor.model().input_spec(), lo);
  data::Batch b;
  const auto& features = attributor.options().features;
  const auto& layers = attributor.options().layers;
  std::string first_error;
  while (loader.next(b)) {
    std::vector<ImageRecord> records;
    std::vector<AttributionRecord> rows;
    for (const auto& f : b.failures) {
      records.push_back({static_cast<int64_t>(f.index), f.id, ds.label(f.index), f.reason});
      ++rep.unreadable;
    }
    if (!b.indices.empty()) {
      auto res = attributor.attribute(b.x);
      // scalars[feature][layer] = {fv, E, E+, E-, L1, L2, L21}, each [N].
      std::vector<std::vector<std::vector<std::vector<double>>>> scalars(features.size());
      for (size_t k = 0; k < features.size(); ++k) {
        for (const auto& la : res[k].layers) {
          const auto& t = la.totals;
          scalars[k].push_back({to_doubles(res[k].fv), to_doubles(t.e), to_doubles(t.e_pos), to_doubles(t.e_neg),
                                to_doubles(t.l1), to_doubles(t.l2), to_doubles(t.l21)});
        }
      }
      for (size_t r = 0; r < b.indices.size(); ++r) {
        auto idx = static_cast<int64_t>(b.indices[r]);
        records.push_back({idx, ds.id(b.indices[r]), b.labels[r], ""});
        const size_t first_row = rows.size();
        for (size_t k = 0; k < features.size(); ++k) {
          const auto& fa = res[k];
          for (size_t l = 0; l < layers.size(); ++l) {
            const auto& la = fa.layers[l];
            const auto& v = scalars[k][l];
            AttributionRecord rec;
            rec.image = idx;
            rec.feature = static_cast<int64_t>(k);
            rec.layer = static_cast<int64_t>(l);
            rec.fv = v[0][r];
            rec.e = v[1][r];
            rec.e_pos = v[2][r];
            rec.e_neg = v[3][r];
            rec.l1 = v[4][r];
            rec.l2 = v[5][r];
            rec.l21 = v[6][r];
            if (la.phi_pos.defined()) {
              rec.phi_pos = to_floats(la.phi_pos[r]);
              rec.phi_neg = to_floats(la.phi_neg[r]);
            }
            if (opt.keep_channels) rec.channels = to_floats(la.channels[r]);
            if (opt.keep_s && la.s.defined()) rec.s = to_floats(la.s[r]);
            rows.push_back(std::move(rec));
          }
        }
        // SQLite stores NaN as NULL, read back as 0: an image whose values are not finite is recorded as failed
        // with the reason, and its rows are left out.
        for (size_t i = first_row; i < rows.size(); ++i) {
          const std::string bad = non_finite(rows[i]);
          if (bad.empty()) continue;
          records.back().error =
              fmt::format("the model gave a non-finite value (NaN or Inf) for feature {} at layer {}: {}",
                          features[rows[i].feature].spec, layers[rows[i].layer], bad);
          if (rep.non_finite++ == 0) first_error = records.back().id + ": " + records.back().error;
          if (rep.non_finite <= 5) spdlog::warn("{}: {}", records.back().id, records.back().error);
          rows.resize(first_row);
          break;
        }
      }
      rep.processed += b.indices.size();
    }
    Stopwatch write;
    store.write_chunk(records, rows);
    rep.write_seconds += write.seconds();
    rep.rows_written += rows.size();
    bar.advance(b.indices.size() + b.failures.size());
    if (interrupt_requested()) {
      check_interrupt(fmt::format("{} of {} images stored", rep.already_stored + rep.processed + rep.unreadable,
                                  rep.already_stored + images.size()),
                      "run the same command to resume");
    }
  }
  if (rep.non_finite > 0) {
    spdlog::warn("{} of {} images gave NaN or Inf and were recorded as failed, not stored as numbers", rep.non_finite,
                 rep.processed);
  }
  if (rep.processed > 0 && rep.non_finite == rep.processed) {
    throw Error(fmt::format("every one of the {} images attributed gave NaN or Inf (first: {}); the model's output "
                            "is not finite: check its weights and input range",
                            rep.processed, first_error));
  }
}

}  // namespace tension::store
