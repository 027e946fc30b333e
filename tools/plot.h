// SVG curves of a training history for `simdiff train --plot`.
#pragma once

#include <string>

#include "simdiff/model.h"

namespace simdiff::tools {

/// Two panels, loss and accuracy per epoch, training (solid) and validation (dashed) when
/// present; written whole to `path` (temporary file, then rename).
void write_training_plot(const std::string& path, const History& history);

}  // namespace simdiff::tools
