// simulacra/interrupt-inl.hpp — the interrupt check's implementation
// (interrupt.hpp): compiled once by src/interrupt.cpp, or inlined into every
// user under SIMULACRA_HEADER_ONLY (config.hpp).
#pragma once

#include <atomic>

#include "simulacra/interrupt.hpp"

namespace simulacra {

namespace detail {
// The installed check: a function-local static, so that header-only there is
// still one per program (an inline function's statics are shared by every
// translation unit), and it exists before any caller's static initialisers.
SIMULACRA_INLINE std::atomic<InterruptCheck>& interrupt_check_slot() noexcept {
  static std::atomic<InterruptCheck> slot{nullptr};
  return slot;
}
}  // namespace detail

SIMULACRA_INLINE InterruptCheck set_interrupt_check(InterruptCheck check) noexcept {
  return detail::interrupt_check_slot().exchange(check);
}

SIMULACRA_INLINE void poll_interrupt() {
  const InterruptCheck check = detail::interrupt_check_slot().load(std::memory_order_relaxed);
  if (check != nullptr && check()) throw Interrupted();
}

}  // namespace simulacra
