#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace tidegate::apps {

/// What main() runs after parsing: the chosen subcommand, returning the process exit code.
using command_runner = std::function<int()>;

/// Each adds one subcommand to `root`; when it is chosen, its parse callback sets `run`.
void add_node_command(CLI::App& root, command_runner& run);
void add_demo_command(CLI::App& root, command_runner& run);
void add_client_command(CLI::App& root, command_runner& run);
void add_bench_command(CLI::App& root, command_runner& run);

}  // namespace tidegate::apps
