// The steering stage and ablations (mixture.hpp), compiled once:
// the definitions are in simulacra/steering-inl.hpp.
#include "simulacra/steering-inl.hpp"
