// Interrupt checks for long calls (interrupt.hpp).
#include "simulacra/interrupt.hpp"

#include <atomic>

namespace simulacra {

namespace {
std::atomic<InterruptCheck> g_check{nullptr};
}  // namespace

InterruptCheck set_interrupt_check(InterruptCheck check) noexcept { return g_check.exchange(check); }

void poll_interrupt() {
  const InterruptCheck check = g_check.load(std::memory_order_relaxed);
  if (check != nullptr && check()) throw Interrupted();
}

}  // namespace simulacra
