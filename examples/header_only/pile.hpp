// The header-only example's pile, fitted in its own translation unit
// (pile.cpp): two translation units including the light core's headers link
// into one program only if every definition in the -inl.hpp headers is inline.
#pragma once

#include <simulacra/mixture.hpp>

// Two Kneser-Ney masks of order 4 fitted from a few lines each, "pirate" and
// "poet", with an even prior. Polls the interrupt check while fitting.
simulacra::Mixture pirate_and_poet();
