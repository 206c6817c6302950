#pragma once
// Fig 9: one trial as a participant sees it, the 6 example MEIs on the left and the 9 choices on the right, with
// the answers marked (target MEI outlined green, target MII outlined orange).
#include <torch/torch.h>

#include "tension/trials/bundle.h"

namespace tension::trials {

// [3, H, W] in [0, 1], every crop drawn at `cell` pixels. Throws tension::Error for an unreadable crop picture.
torch::Tensor trial_picture(const Bundle& b, const Trial& t, int64_t cell = 96);

}  // namespace tension::trials
