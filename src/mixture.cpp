// The posterior filter, the mixture's reader state and traces (mixture.hpp), compiled once:
// the definitions are in simulacra/mixture-inl.hpp.
#include "simulacra/mixture-inl.hpp"
