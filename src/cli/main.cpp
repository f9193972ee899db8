// src/cli/main.cpp — the `simulacra` command-line tool: dispatch to the
// subcommands (commands.hpp, one file each), Ctrl-C, and the exit status.
//
//   simulacra train    [corpus options] -o MODEL     train a pile of masks, save it
//   simulacra discover [corpus options] --k K        find K masks in unlabelled documents
//   simulacra score    MODEL [FILE ...|--text TEXT]   bits per byte and attribution
//   simulacra trace    MODEL [FILE|--text TEXT]       the text coloured by mask, weights
//   simulacra generate MODEL [--prompt TEXT]          sample a continuation
//   simulacra inspect  MODEL [FILE|--text TEXT]       every mask's next tokens, side by side
//   simulacra vote     MODEL --prompt P --option O... each mask's answer and the pile's
//   simulacra switch   MODEL --from A --to B ...      how fast a mask swap happens, both ways
//   simulacra info     MODEL [--json]                 personas, sizes, switching, fitted parameters
//   simulacra export-arpa MODEL PERSONA OUT.arpa      one n-gram mask as an ARPA file (KenLM, SRILM)
//   simulacra --version                               the version and the model-file format version
//   simulacra demo                                    the whole story on the built-in corpus
//
// Exit status and Ctrl-C: run.hpp.
#include "commands.hpp"
#include "run.hpp"

int main(int argc, char** argv) {
  using namespace simulacra::cli;
  const std::vector<Entry> commands = {
      {&kTrain, run_train},     {&kDiscover, run_discover}, {&kScore, run_score}, {&kTrace, run_trace},
      {&kGenerate, run_generate}, {&kInspect, run_inspect}, {&kVote, run_vote},   {&kSwitch, run_switch},
      {&kInfo, run_info},       {&kExportArpa, run_export_arpa}, {&kDemo, run_demo}};
  return run(argc, argv, "simulacra", commands);
}
