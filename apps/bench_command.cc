#include <iostream>

#include "apps/commands.h"

namespace tidegate::apps {

void add_bench_command(CLI::App& root, command_runner& run) {
  auto* cmd = root.add_subcommand("bench", "not built yet");
  cmd->callback([&run] {
    run = [] {
      std::cerr << "tidegate bench: not built yet\n";
      return 1;
    };
  });
}

}  // namespace tidegate::apps
