// The tidegate binary: one subcommand per role (node, demo, client, bench).
#include <iostream>

#include <CLI/CLI.hpp>

#include "apps/commands.h"

int main(int argc, char** argv) {
  CLI::App root{"Tidegate: a mobile access layer on the actor model"};
  root.require_subcommand(1);
  tidegate::apps::command_runner run;
  tidegate::apps::add_node_command(root, run);
  tidegate::apps::add_demo_command(root, run);
  tidegate::apps::add_client_command(root, run);
  tidegate::apps::add_bench_command(root, run);
  try {
    root.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return root.exit(e);  // names the bad option or value; 0 for --help
  }
  return run ? run() : 2;
}
