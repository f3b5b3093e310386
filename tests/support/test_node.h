#pragma once

#include <memory>
#include <string>

#include "actors/config/node_config.h"
#include "actors/node/node.h"

namespace tidegate::test {

/// The app every test node serves, and its token secret.
inline constexpr const char* test_app = "wallet";
inline constexpr const char* test_secret = "test-secret-0123456789abcdef";
/// Signs the test app's dispatch answers.
inline constexpr const char* test_dispatch_key = "test-dispatch-key-0123456789";

/// A node config for tests: 127.0.0.1 port 0 for clients and HTTP, two scheduler threads,
/// one app, and timeouts short enough for tests (callers shorten more as needed).
actors::node_config test_node_config();

/// Starts a node in this process; fails the calling test (and returns null) if it cannot.
std::unique_ptr<actors::node> start_test_node(const actors::node_config& cfg);

}  // namespace tidegate::test
