// `tidegate node` as a real process: config errors, and SIGTERM draining to exit 0.
#include <signal.h>

#include <fstream>
#include <regex>

#include <gtest/gtest.h>

#include "tests/support/child_process.h"
#include "tests/support/raw_client.h"
#include "tests/support/test_node.h"
#include "tidegate/v1/control.pb.h"

namespace tidegate::test {
namespace {

using namespace std::chrono_literals;

std::string write_config(const std::string& name, const std::string& text) {
  auto path = ::testing::TempDir() + name;
  std::ofstream{path} << text;
  return path;
}

const char* good_config = R"([node]
id = "proc"
scheduler_threads = 2
[gateway]
listen = "127.0.0.1:0"
heartbeat_min_ms = 100
drain_window_ms = 300
soft_disconnect_grace_ms = 300
[http]
listen = "127.0.0.1:0"
[[apps]]
id = "wallet"
secret = "test-secret-0123456789abcdef"
)";

TEST(NodeProcessTest, UnknownKeyExitsNonZeroNamingFileLineAndKey) {
  std::string text = good_config;
  text.insert(text.find("[http]"), "heartbeat_mni_ms = 5\n");
  auto path = write_config("typo.toml", text);
  child_process p{{TIDEGATE_BINARY, "node", "--config", path}};
  auto code = p.wait(20s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 2);
  EXPECT_NE(p.err().find(path + ":9"), std::string::npos) << p.err();
  EXPECT_NE(p.err().find("gateway.heartbeat_mni_ms"), std::string::npos) << p.err();
}

TEST(NodeProcessTest, WrongTypeNamesTheKey) {
  std::string text = good_config;
  text.replace(text.find("heartbeat_min_ms = 100"), 22, "heartbeat_min_ms = \"x\"");
  auto path = write_config("type.toml", text);
  child_process p{{TIDEGATE_BINARY, "node", "--config", path}};
  auto code = p.wait(20s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 2);
  EXPECT_NE(p.err().find("gateway.heartbeat_min_ms"), std::string::npos) << p.err();
}

TEST(NodeProcessTest, MissingFileAndMissingOptionAreErrors) {
  child_process missing{{TIDEGATE_BINARY, "node", "--config", "/nonexistent/x.toml"}};
  auto code = missing.wait(20s);
  ASSERT_TRUE(code);
  EXPECT_NE(*code, 0);
  EXPECT_NE(missing.err().find("/nonexistent/x.toml"), std::string::npos) << missing.err();
  child_process no_option{{TIDEGATE_BINARY, "node"}};
  code = no_option.wait(20s);
  ASSERT_TRUE(code);
  EXPECT_NE(*code, 0);
  EXPECT_NE(no_option.err().find("--config"), std::string::npos) << no_option.err();
}

TEST(NodeProcessTest, SigtermSendsGoAwayAndExitsZero) {
  auto path = write_config("good.toml", good_config);
  child_process p{{TIDEGATE_BINARY, "node", "--config", path}};
  auto line = p.wait_for_line("clients on", 20s);
  ASSERT_TRUE(line) << p.err();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(*line, m, std::regex{"clients on [0-9.]+:([0-9]+)"})) << *line;
  auto port = static_cast<uint16_t>(std::stoi(m[1]));
  raw_client c{port};
  ASSERT_TRUE(c.hello("dev-1", test_app, 10'000));
  ASSERT_TRUE(c.auth(token_for(test_secret, test_app, "alice")));
  p.signal(SIGTERM);
  auto f = c.next(10s);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->type, v1::FRAME_TYPE_GOAWAY);
  EXPECT_TRUE(c.closed_within(10s));  // the grace period ends it even if we stay
  auto code = p.wait(20s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0) << p.err();
  EXPECT_NE(p.out().find("drained 1 sessions"), std::string::npos) << p.out();
}

TEST(NodeProcessTest, TwoProcessesShareTheClientPort) {
  auto first_path = write_config("first.toml", good_config);
  child_process first{{TIDEGATE_BINARY, "node", "--config", first_path}};
  auto line = first.wait_for_line("clients on", 20s);
  ASSERT_TRUE(line) << first.err();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(*line, m, std::regex{"clients on [0-9.]+:([0-9]+)"}));
  std::string port = m[1];
  std::string second_text = good_config;
  second_text.replace(second_text.find("127.0.0.1:0"), 11, "127.0.0.1:" + port);
  auto second_path = write_config("second.toml", second_text);
  child_process second{{TIDEGATE_BINARY, "node", "--config", second_path}};
  ASSERT_TRUE(second.wait_for_line("clients on 127.0.0.1:" + port, 20s)) << second.err();
  first.signal(SIGTERM);
  ASSERT_EQ(first.wait(20s), std::optional<int>{0});
  raw_client c{static_cast<uint16_t>(std::stoi(port))};  // now only the second one listens
  EXPECT_TRUE(c.hello("dev-1", test_app, 10'000));
  EXPECT_TRUE(c.auth(token_for(test_secret, test_app, "alice")));
}

// The demo: three members from config/cluster/ agree on a map, the phones land in their
// zones through dispatch, and the backend's ops and topic messages reach them.
TEST(NodeProcessTest, DemoRunsAThreeNodeClusterWithABackendAndPhones) {
  const std::string dir = std::string{TIDEGATE_SOURCE_DIR} + "/config/cluster/";
  child_process p{{TIDEGATE_BINARY, "demo", "--config", dir + "n1.toml", "--config",
                   dir + "n2.toml", "--config", dir + "n3.toml", "--ephemeral", "--clients", "30",
                   "--duration", "5"}};
  auto code = p.wait(120s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0) << p.err();
  const auto& out = p.out();
  EXPECT_NE(out.find("n3[z2]:conns="), std::string::npos) << out;
  EXPECT_NE(out.find("phones_ready=30 "), std::string::npos) << out;
  EXPECT_NE(out.find("followers=30 "), std::string::npos) << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex{"received ([0-9]+) ops and ([0-9]+) messages"}))
      << out;
  EXPECT_GT(std::stoull(m[1]), 0u) << out;
  EXPECT_GT(std::stoull(m[2]), 0u) << out;
}

}  // namespace
}  // namespace tidegate::test
