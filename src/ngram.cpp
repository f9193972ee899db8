// Fitting and querying the Kneser-Ney persona (ngram.hpp), compiled once:
// the definitions are in simulacra/ngram-inl.hpp.
#include "simulacra/ngram-inl.hpp"
