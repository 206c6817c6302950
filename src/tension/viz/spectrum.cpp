#include "tension/viz/spectrum.h"

#include <spdlog/spdlog.h>

#include "tension/core/error.h"
#include "tension/core/progress.h"
#include "tension/data/loader.h"
#include "tension/viz/color.h"

namespace tension::viz {

torch::Tensor estimate_spectrum(const data::Dataset& ds, const SpectrumOptions& opt) {
  if (opt.size < 2) throw Error("the spectrum size must be at least 2");
  if (opt.channels != 1 && opt.channels != 3) throw Error("the spectrum needs 1 or 3 channels");
  model::InputSpec spec;
  spec.channels = opt.channels;
  spec.height = spec.width = opt.size;
  data::LoaderOptions lo;
  lo.batch_size = opt.batch_size;
  lo.threads = opt.decode_threads;
  if (opt.limit > 0) {
    for (size_t i = 0; i < std::min(opt.limit, ds.size()); ++i) lo.indices.push_back(i);
  }
  data::BatchLoader loader(ds, spec, lo);
  Progress progress("spectrum", loader.num_items(), "img");
  torch::Tensor sum = torch::zeros({opt.channels, opt.size, opt.size / 2 + 1}, torch::kDouble);
  int64_t n = 0;
  data::Batch b;
  while (loader.next(b)) {
    progress.advance(b.indices.size() + b.failures.size());
    if (b.x.size(0) == 0) continue;
    sum += torch::fft::rfft2(decorrelate(b.x)).abs().sum(0).to(torch::kDouble);
    n += b.x.size(0);
  }
  progress.finish();
  if (n == 0) throw Error("no readable image in " + ds.describe() + " to estimate a spectrum from");
  return (sum / static_cast<double>(n)).to(torch::kFloat);
}

torch::Tensor one_over_f(int64_t size) {
  auto fy = torch::fft::fftfreq(size, torch::kDouble).unsqueeze(1);
  auto fx = torch::fft::rfftfreq(size, torch::kDouble).unsqueeze(0);
  auto f = (fy * fy + fx * fx).sqrt();
  return (1.0 / f.clamp_min(1.0 / static_cast<double>(size))).to(torch::kFloat);
}

torch::Tensor fit_spectrum(const torch::Tensor& spectrum, int64_t size) {
  if (spectrum.dim() != 3) throw Error("a spectrum is [C, H, W/2+1], got " + c10::str(spectrum.sizes()));
  auto s = spectrum.to(torch::kFloat);
  if (s.size(1) == size && s.size(2) == size / 2 + 1) return s;
  namespace F = torch::nn::functional;
  return F::interpolate(s.unsqueeze(0), F::InterpolateFuncOptions()
                                            .size(std::vector<int64_t>{size, size / 2 + 1})
                                            .mode(torch::kBilinear)
                                            .align_corners(true)
                                            .antialias(true))
      .squeeze(0);
}

RadialProfile radial_profile(const torch::Tensor& spectrum) {
  if (spectrum.dim() != 3) throw Error("a spectrum is [C, H, W/2+1], got " + c10::str(spectrum.sizes()));
  auto s = spectrum.to(torch::kDouble).cpu();
  const int64_t size = s.size(1), rmax = size / 2;
  auto ky = torch::fft::fftfreq(size, torch::kDouble).unsqueeze(1) * size;
  auto kx = torch::fft::rfftfreq(size, torch::kDouble).unsqueeze(0) * size;
  auto r = (ky * ky + kx * kx).sqrt().round().to(torch::kLong).flatten();
  auto valid = r.le(rmax);
  auto bins = r.masked_select(valid);
  auto counts = torch::zeros({rmax + 1}, torch::kDouble).index_add_(0, bins, torch::ones_like(bins, torch::kDouble));
  RadialProfile p;
  for (int64_t k = 1; k <= rmax; ++k) p.radius.push_back(static_cast<double>(k));
  auto logr = torch::tensor(p.radius, torch::kDouble).log();
  for (int64_t c = 0; c < s.size(0); ++c) {
    auto vals = s[c].flatten().masked_select(valid);
    auto mean = torch::zeros({rmax + 1}, torch::kDouble).index_add_(0, bins, vals) / counts.clamp_min(1);
    auto m = mean.slice(0, 1);
    p.magnitude.emplace_back(m.data_ptr<double>(), m.data_ptr<double>() + m.numel());
    // Least-squares slope of log magnitude on log radius.
    auto y = m.clamp_min(1e-30).log();
    auto xc = logr - logr.mean();
    p.slope.push_back(((xc * (y - y.mean())).sum() / (xc * xc).sum()).item<double>());
  }
  return p;
}

}  // namespace tension::viz
