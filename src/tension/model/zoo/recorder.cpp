#include "tension/model/zoo/recorder.h"

#include <stdexcept>

namespace tension::model {

TapRecorder::TapRecorder(std::vector<Tap> taps, bool want_output)
    : taps_(std::move(taps)), values_(taps_.size()), pending_(taps_.size()), want_output_(want_output) {}

bool TapRecorder::in(const std::string& layer, const torch::Tensor& t) {
  record(layer, TapSide::Input, t);
  return done();
}

void TapRecorder::out(const std::string& layer, const torch::Tensor& t) {
  out_order_.push_back(layer);
  record(layer, TapSide::Output, t);
}

void TapRecorder::record(const std::string& layer, TapSide side, const torch::Tensor& t) {
  for (size_t i = 0; i < taps_.size(); ++i) {
    if (!values_[i].defined() && taps_[i].side == side && taps_[i].layer == layer) {
      values_[i] = t;
      --pending_;
    }
  }
}

std::vector<torch::Tensor> TapRecorder::taps() const {
  for (size_t i = 0; i < taps_.size(); ++i) {
    if (!values_[i].defined()) throw std::logic_error("zoo network never reported tap " + taps_[i].str());
  }
  return values_;
}

}  // namespace tension::model
