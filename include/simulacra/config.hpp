// simulacra/config.hpp — the header-only switch of the light core.
//
// The light core (tokenizer, persona, posterior and mixture with its steering
// stage, sampler, n-gram fitting and querying, the interrupt check) keeps its
// implementations in -inl.hpp headers beside the public ones. Two ways to use
// them, as fmt does with FMT_HEADER_ONLY:
//
//  * compiled (the default): the library's src/<name>.cpp includes
//    <name>-inl.hpp once, and programs link simulacra::simulacra;
//  * header-only: define SIMULACRA_HEADER_ONLY before including any simulacra
//    header (the CMake target simulacra::header_only defines it), and each
//    public header of the light core includes its -inl.hpp at its end; nothing
//    to link but fmt. The transformer, file IO and corpus loading, training
//    helpers and analyses are compiled only: their headers are not part of
//    the header-only subset (docs/cpp.md lists what is where).
//
// Do not mix the two in one program: link the library or define the switch.
#pragma once

// Marks a definition in an -inl.hpp header: inline when header-only (every
// translation unit that includes the header gets the same definition), empty
// when the library compiles the definition once.
#ifdef SIMULACRA_HEADER_ONLY
#define SIMULACRA_INLINE inline
#else
#define SIMULACRA_INLINE
#endif
