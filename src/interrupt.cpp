// Interrupt checks for long calls (interrupt.hpp), compiled once: the
// definitions are in simulacra/interrupt-inl.hpp.
#include "simulacra/interrupt-inl.hpp"
