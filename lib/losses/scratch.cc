#include "lib/losses/scratch.h"

namespace simdiff::detail {

LossScratch& loss_scratch() {
  thread_local LossScratch scratch;
  return scratch;
}

}  // namespace simdiff::detail
