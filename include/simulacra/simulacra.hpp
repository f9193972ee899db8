// simulacra/simulacra.hpp — the whole public API in one include.
#pragma once

#include "simulacra/analysis.hpp"
#include "simulacra/attribution.hpp"
#include "simulacra/corpus.hpp"
#include "simulacra/error.hpp"
#include "simulacra/inspect.hpp"
#include "simulacra/interrupt.hpp"
#include "simulacra/mixture.hpp"
#include "simulacra/model_file.hpp"
#include "simulacra/ngram.hpp"
#include "simulacra/persona.hpp"
#include "simulacra/sampling.hpp"
#include "simulacra/tokenizer.hpp"
#include "simulacra/train.hpp"
#include "simulacra/transformer.hpp"
#include "simulacra/transformer_train.hpp"
