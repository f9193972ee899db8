// simulacra/interrupt.hpp — stopping long calls (Ctrl-C) from outside.
//
// Long computations (scoring, traces, attribution, votes, fitting, transformer
// scoring and training) poll an interrupt check every few thousand tokens from
// the thread that runs them. When the installed check returns true the call
// throws Interrupted and leaves every object it was given as it was before the
// call (results being built are dropped). With no check installed polling is
// one relaxed atomic load.
//
// The Python bindings install a check that asks the interpreter whether a
// signal arrived (KeyboardInterrupt); the CLI installs one that reads a flag
// its SIGINT handler sets. A C++ program installs its own:
//
//   static std::atomic<bool> stop{false};
//   std::signal(SIGINT, [](int) { stop = true; });
//   simulacra::set_interrupt_check([] { return stop.load(); });
#pragma once

#include <cstdint>
#include <stdexcept>

#include "simulacra/config.hpp"

namespace simulacra {

// Thrown by a long call whose interrupt check returned true.
class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted") {}
};

// Returns true when the running computation should stop. Called from the
// thread running the computation; must not throw.
using InterruptCheck = bool (*)();

// Installs `check` for the whole process (nullptr removes it) and returns the
// check it replaces. Thread-safe.
InterruptCheck set_interrupt_check(InterruptCheck check) noexcept;

// Throws Interrupted if the installed check returns true.
void poll_interrupt();

// Calls poll_interrupt() once every `every` calls of tick(): put one in a hot
// loop at the cost of a counter increment per token.
class InterruptPoller {
 public:
  explicit InterruptPoller(std::uint32_t every = 4096) : every_(every == 0 ? 1 : every) {}
  void tick() {
    if (++count_ >= every_) {
      count_ = 0;
      poll_interrupt();
    }
  }

 private:
  std::uint32_t every_;
  std::uint32_t count_ = 0;
};

}  // namespace simulacra

#ifdef SIMULACRA_HEADER_ONLY
#include "simulacra/interrupt-inl.hpp"
#endif
