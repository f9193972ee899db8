// The sampler chain and generation (sampling.hpp), compiled once:
// the definitions are in simulacra/sampling-inl.hpp.
#include "simulacra/sampling-inl.hpp"
