// src/cli/commands.hpp — the subcommands of the `simulacra` tool, one file
// each (src/cli/<command>.cpp): its Command (synopsis, options, help) and
// the function that runs it, returning the exit status.
#pragma once

#include "args.hpp"

namespace simulacra::cli {

extern const Command kTrain, kDiscover, kScore, kTrace, kGenerate, kInspect, kVote, kSwitch, kInfo, kDemo,
    kExportArpa;

int run_train(const Args& args);     // train.cpp
int run_discover(const Args& args);  // discover.cpp
int run_score(const Args& args);     // score.cpp
int run_trace(const Args& args);     // trace.cpp
int run_generate(const Args& args);  // generate.cpp
int run_inspect(const Args& args);   // inspect.cpp
int run_vote(const Args& args);      // vote.cpp
int run_switch(const Args& args);    // switch.cpp
int run_info(const Args& args);      // info.cpp
int run_demo(const Args& args);      // demo.cpp
int run_export_arpa(const Args& args);  // export_arpa.cpp

}  // namespace simulacra::cli
