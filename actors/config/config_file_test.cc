#include "actors/config/config_file.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tidegate::actors {
namespace {

// The smallest valid file; tests append to it or replace parts of it.
constexpr const char* minimal_node = R"([node]
id = "node-a"
)";
constexpr const char* minimal_apps = R"(
[[apps]]
id = "demo"
secret = "0123456789abcdef"
)";

std::string with_node(const std::string& extra) {
  return minimal_node + extra + minimal_apps;
}

config_error error_of(const std::string& text) {
  auto result = parse_node_config(text, "test.toml");
  EXPECT_FALSE(result.config);
  if (!result.error) {
    ADD_FAILURE() << "accepted:\n" << text;
    return {};
  }
  return *result.error;
}

// A real file in the test temp directory, removed when the test ends.
class temp_file {
 public:
  explicit temp_file(const std::string& text) {
    std::string pattern = testing::TempDir() + "tidegate_config_XXXXXX.toml";
    int fd = mkstemps(pattern.data(), 5);
    EXPECT_GE(fd, 0);
    ::close(fd);
    path_ = pattern;
    std::ofstream{path_} << text;
  }
  ~temp_file() { std::filesystem::remove(path_); }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ConfigFileTest, FullFileSetsEveryKey) {
  auto result = parse_node_config(R"(
[node]
id = "node-b"
scheduler_threads = 4
scheduler = "stealing"

[gateway]
listen = "127.0.0.1:0"
max_connections = 1000
fd_headroom = 64
accept_rate = 200
accept_burst = 400
max_frame_size = 1048576
compression_threshold = 2048
max_unsent_bytes = 8388608
socket_send_buffer = 65536
handshake_timeout_ms = 5000
heartbeat_min_ms = 1000
heartbeat_max_ms = 120000
idle_margin = 2.0
ack_deadline_ms = 30000
soft_disconnect_grace_ms = 0
drain_window_ms = 20000

[http]
listen = "[::1]:9100"

[supervisor]
intensity = 3
period_ms = 5000

[[apps]]
id = "wallet"
secret = "0123456789abcdef0123456789abcdef"
zstd_dictionary = "dict/wallet.zdict"

[[apps]]
id = "chat"
secret = "fedcba9876543210"
)",
                                  "full.toml");
  ASSERT_TRUE(result.config) << result.error->to_string();
  EXPECT_FALSE(result.error);
  const node_config& c = *result.config;
  EXPECT_EQ(c.node_id, "node-b");
  EXPECT_EQ(c.scheduler_threads, 4u);
  EXPECT_EQ(c.scheduler, "stealing");
  EXPECT_EQ(c.gateway.listen.host, "127.0.0.1");
  EXPECT_EQ(c.gateway.listen.port, 0);
  EXPECT_EQ(c.gateway.max_connections, 1000u);
  EXPECT_EQ(c.gateway.fd_headroom, 64u);
  EXPECT_EQ(c.gateway.accept_rate, 200u);
  EXPECT_EQ(c.gateway.accept_burst, 400u);
  EXPECT_EQ(c.gateway.max_frame_size, 1048576u);
  EXPECT_EQ(c.gateway.compression_threshold, 2048u);
  EXPECT_EQ(c.gateway.max_unsent_bytes, 8388608u);
  EXPECT_EQ(c.gateway.socket_send_buffer, 65536u);
  EXPECT_EQ(c.gateway.handshake_timeout_ms, 5000u);
  EXPECT_EQ(c.gateway.heartbeat_min_ms, 1000u);
  EXPECT_EQ(c.gateway.heartbeat_max_ms, 120000u);
  EXPECT_DOUBLE_EQ(c.gateway.idle_margin, 2.0);
  EXPECT_EQ(c.gateway.ack_deadline_ms, 30000u);
  EXPECT_EQ(c.gateway.soft_disconnect_grace_ms, 0u);
  EXPECT_EQ(c.gateway.drain_window_ms, 20000u);
  EXPECT_EQ(c.http.host, "::1");
  EXPECT_EQ(c.http.port, 9100);
  EXPECT_EQ(c.supervisor.intensity, 3u);
  EXPECT_EQ(c.supervisor.period_ms, 5000u);
  ASSERT_EQ(c.apps.size(), 2u);
  EXPECT_EQ(c.apps[0].id, "wallet");
  EXPECT_EQ(c.apps[0].secret, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(c.apps[0].zstd_dictionary, "dict/wallet.zdict");
  EXPECT_EQ(c.apps[1].id, "chat");
  EXPECT_EQ(c.apps[1].zstd_dictionary, "");
}

TEST(ConfigFileTest, OmittedKeysKeepTheStructDefaults) {
  auto result = parse_node_config(with_node(""), "min.toml");
  ASSERT_TRUE(result.config) << result.error->to_string();
  const node_config defaults;
  const node_config& c = *result.config;
  EXPECT_EQ(c.scheduler_threads, defaults.scheduler_threads);
  EXPECT_EQ(c.gateway.listen.host, "0.0.0.0");
  EXPECT_EQ(c.gateway.listen.port, 7100);
  EXPECT_EQ(c.gateway.max_frame_size, defaults.gateway.max_frame_size);
  EXPECT_EQ(c.gateway.heartbeat_min_ms, defaults.gateway.heartbeat_min_ms);
  EXPECT_DOUBLE_EQ(c.gateway.idle_margin, defaults.gateway.idle_margin);
  EXPECT_EQ(c.http.host, "127.0.0.1");
  EXPECT_EQ(c.http.port, 7180);
  EXPECT_EQ(c.supervisor.intensity, defaults.supervisor.intensity);
  EXPECT_EQ(c.supervisor.period_ms, defaults.supervisor.period_ms);
}

TEST(ConfigFileTest, IntegerMarginIsAccepted) {
  auto result = parse_node_config(with_node("[gateway]\nidle_margin = 2\n"), "t.toml");
  ASSERT_TRUE(result.config) << result.error->to_string();
  EXPECT_DOUBLE_EQ(result.config->gateway.idle_margin, 2.0);
}

TEST(ConfigFileTest, SyntaxErrorNamesFileLineAndColumn) {
  auto e = error_of("[node]\nid = \"node-a\"\nscheduler_threads = = 3\n");
  EXPECT_EQ(e.file, "test.toml");
  EXPECT_EQ(e.line, 3u);
  EXPECT_GT(e.column, 0u);
  EXPECT_EQ(e.key, "");
  EXPECT_FALSE(e.message.empty());
  EXPECT_EQ(e.to_string().rfind("test.toml:3:", 0), 0u) << e.to_string();
}

TEST(ConfigFileTest, UnknownKeyIsAnErrorWithASuggestion) {
  auto e = error_of(with_node("[gateway]\nmax_conections = 10\n"));
  EXPECT_EQ(e.line, 4u);
  EXPECT_EQ(e.column, 1u);
  EXPECT_EQ(e.key, "gateway.max_conections");
  EXPECT_EQ(e.message, "unknown key (did you mean gateway.max_connections?)");
  EXPECT_EQ(e.to_string(),
            "test.toml:4:1: gateway.max_conections: unknown key (did you mean "
            "gateway.max_connections?)");
}

TEST(ConfigFileTest, UnknownKeyInNodeAndAppsIsAnError) {
  EXPECT_EQ(error_of(with_node("colour = \"blue\"\n")).key, "node.colour");
  EXPECT_EQ(error_of(with_node("") + "secrets = \"x\"\n").key, "apps[0].secrets");
  EXPECT_EQ(error_of(std::string{"top = 1\n"} + with_node("")).key, "top");
}

TEST(ConfigFileTest, UnknownTableIsAnError) {
  auto e = error_of(with_node("[gatway]\nlisten = \"0.0.0.0:1\"\n"));
  EXPECT_EQ(e.key, "gatway");
  EXPECT_EQ(e.line, 3u);
  EXPECT_EQ(e.message, "unknown table (did you mean gateway?)");
  EXPECT_EQ(error_of(with_node("[gateway.tls]\ncert = \"x\"\n")).key, "gateway.tls");
}

TEST(ConfigFileTest, WrongTypeNamesBothTypes) {
  auto e = error_of(with_node("[gateway]\nmax_frame_size = \"big\"\n"));
  EXPECT_EQ(e.key, "gateway.max_frame_size");
  EXPECT_EQ(e.line, 4u);
  EXPECT_EQ(e.column, 18u);
  EXPECT_EQ(e.message, "expected an integer, got a string");
  EXPECT_EQ(error_of(with_node("[gateway]\nidle_margin = \"x\"\n")).message,
            "expected a number, got a string");
  EXPECT_EQ(error_of("[node]\nid = 7\n" + std::string{minimal_apps}).message,
            "expected a string, got an integer");
  EXPECT_EQ(error_of(with_node("[gateway]\nlisten = 7100\n")).message,
            "expected a string, got an integer");
  EXPECT_EQ(error_of(std::string{"node = 1\n"} + minimal_apps).message,
            "expected a table, got an integer");
  EXPECT_EQ(error_of("apps = \"demo\"\n" + std::string{minimal_node}).message,
            "expected an array of tables ([[apps]]), got a string");
  EXPECT_EQ(error_of("apps = [1, 2]\n" + std::string{minimal_node}).message,
            "expected an array of tables ([[apps]]), got an array of other values");
}

TEST(ConfigFileTest, NegativeAndZeroValuesAreRefusedWhereNotAllowed) {
  auto e = error_of(with_node("[gateway]\nfd_headroom = -1\n"));
  EXPECT_EQ(e.key, "gateway.fd_headroom");
  EXPECT_EQ(e.message, "must not be negative, got -1");
  e = error_of(with_node("[gateway]\nhandshake_timeout_ms = 0\n"));
  EXPECT_EQ(e.key, "gateway.handshake_timeout_ms");
  EXPECT_EQ(e.message, "must be between 1 and 4294967295, got 0");
  EXPECT_EQ(error_of(with_node("[supervisor]\nperiod_ms = 0\n")).key, "supervisor.period_ms");
  EXPECT_EQ(error_of(with_node("[gateway]\naccept_rate = 4294967296\n")).key,
            "gateway.accept_rate");
  EXPECT_EQ(error_of(with_node("scheduler_threads = -2\n")).key, "node.scheduler_threads");
  EXPECT_EQ(error_of(with_node("[gateway]\nsocket_send_buffer = 2147483648\n")).key,
            "gateway.socket_send_buffer");
}

TEST(ConfigFileTest, AnUnknownSchedulerPolicyIsRefused) {
  auto e = error_of(with_node("scheduler = \"fifo\"\n"));
  EXPECT_EQ(e.key, "node.scheduler");
  EXPECT_EQ(e.message, "must be \"sharing\" or \"stealing\", got \"fifo\"");
}

TEST(ConfigFileTest, MaxFrameSizeMustBeBetweenOneKibAndSixtyFourMib) {
  const std::string range = "must be between 1024 and 67108864, got ";
  EXPECT_EQ(error_of(with_node("[gateway]\nmax_frame_size = 1023\n")).message, range + "1023");
  EXPECT_EQ(error_of(with_node("[gateway]\nmax_frame_size = 67108865\n")).message,
            range + "67108865");
  EXPECT_TRUE(parse_node_config(with_node("[gateway]\nmax_frame_size = 1024\n"), "t").config);
  EXPECT_TRUE(parse_node_config(with_node("[gateway]\nmax_frame_size = 67108864\n"), "t").config);
}

TEST(ConfigFileTest, HeartbeatMinAboveMaxIsRefused) {
  auto e = error_of(with_node("[gateway]\nheartbeat_min_ms = 5000\nheartbeat_max_ms = 4000\n"));
  EXPECT_EQ(e.key, "gateway.heartbeat_min_ms");
  EXPECT_EQ(e.line, 4u);
  EXPECT_EQ(e.message, "heartbeat_min_ms (5000) must not exceed heartbeat_max_ms (4000)");
  // Only the maximum set, below the default minimum: the maximum is blamed.
  e = error_of(with_node("[gateway]\nheartbeat_max_ms = 1000\n"));
  EXPECT_EQ(e.key, "gateway.heartbeat_max_ms");
  EXPECT_TRUE(parse_node_config(
                  with_node("[gateway]\nheartbeat_min_ms = 4000\nheartbeat_max_ms = 4000\n"), "t")
                  .config);
}

TEST(ConfigFileTest, IdleMarginBelowOneIsRefused) {
  auto e = error_of(with_node("[gateway]\nidle_margin = 0.9\n"));
  EXPECT_EQ(e.key, "gateway.idle_margin");
  EXPECT_EQ(e.message, "must be a number of at least 1, got 0.9");
  EXPECT_EQ(error_of(with_node("[gateway]\nidle_margin = nan\n")).key, "gateway.idle_margin");
  EXPECT_EQ(error_of(with_node("[gateway]\nidle_margin = inf\n")).key, "gateway.idle_margin");
}

TEST(ConfigFileTest, BadAddressesAreRefused) {
  for (const char* listen : {"7100", "0.0.0.0:65536", "0.0.0.0:x", "example.com:7100", "::1:7100",
                             "[::1]", "0.0.0.0:"}) {
    auto e = error_of(with_node(std::string{"[gateway]\nlisten = \""} + listen + "\"\n"));
    EXPECT_EQ(e.key, "gateway.listen") << listen;
    EXPECT_EQ(e.line, 4u) << listen;
    EXPECT_EQ(e.column, 10u) << listen;
  }
  auto e = error_of(with_node("[http]\nlisten = \"127.0.0.1:99999\"\n"));
  EXPECT_EQ(e.key, "http.listen");
  EXPECT_EQ(e.message, "port must be 0..65535, got 99999");
}

TEST(ConfigFileTest, MissingRequiredKeysPointAtTheirTable) {
  auto e = error_of("[node]\nscheduler_threads = 1\n" + std::string{minimal_apps});
  EXPECT_EQ(e.key, "node.id");
  EXPECT_EQ(e.line, 1u);
  EXPECT_EQ(e.message, "missing required key");
  e = error_of(minimal_apps);
  EXPECT_EQ(e.key, "node");
  EXPECT_EQ(e.message, "missing required table");
  e = error_of(minimal_node);
  EXPECT_EQ(e.key, "apps");
  EXPECT_EQ(e.line, 1u);
  e = error_of(std::string{minimal_node} + "\n[[apps]]\nid = \"demo\"\n");
  EXPECT_EQ(e.key, "apps[0].secret");
  EXPECT_EQ(e.line, 4u);
  EXPECT_EQ(e.message, "missing required key");
  e = error_of(with_node("") + "\n[[apps]]\nsecret = \"0123456789abcdef\"\n");
  EXPECT_EQ(e.key, "apps[1].id");
  EXPECT_EQ(e.line, 8u);  // the [[apps]] header
  EXPECT_EQ(error_of("apps = []\n" + std::string{minimal_node}).message,
            "at least one [[apps]] is needed");
}

TEST(ConfigFileTest, IdsAndSecretsAreChecked) {
  EXPECT_EQ(error_of("[node]\nid = \"Node_A\"\n" + std::string{minimal_apps}).key, "node.id");
  EXPECT_EQ(error_of("[node]\nid = \"\"\n" + std::string{minimal_apps}).key, "node.id");
  EXPECT_EQ(error_of("[node]\nid = \"" + std::string(65, 'a') + "\"\n" + minimal_apps).key,
            "node.id");
  EXPECT_TRUE(
      parse_node_config("[node]\nid = \"" + std::string(64, 'a') + "\"\n" + minimal_apps, "t")
          .config);
  auto e = error_of(std::string{minimal_node} + "[[apps]]\nid = \"demo\"\nsecret = \"short\"\n");
  EXPECT_EQ(e.key, "apps[0].secret");
  EXPECT_EQ(e.message, "must be at least 16 bytes, got 5");
  EXPECT_EQ(error_of(std::string{minimal_node}
                     + "[[apps]]\nid = \"a b\"\nsecret = \"0123456789abcdef\"\n")
                .key,
            "apps[0].id");
}

TEST(ConfigFileTest, DispatchKeysAndTheDispatchSectionAreChecked) {
  auto app = [](const std::string& key) {
    return std::string{minimal_node} + "[[apps]]\nid = \"demo\"\nsecret = \"0123456789abcdef\"\n"
           + "dispatch_key = \"" + key + "\"\n";
  };
  auto ok = parse_node_config(
      app("fedcba9876543210") + "[dispatch]\nttl_s = 60\nmax_addresses = 2\n", "t");
  ASSERT_TRUE(ok.config);
  EXPECT_EQ(ok.config->apps[0].dispatch_key, "fedcba9876543210");
  EXPECT_EQ(ok.config->dispatch.ttl_s, 60u);
  EXPECT_EQ(ok.config->dispatch.max_addresses, 2u);
  auto e = error_of(app("short"));
  EXPECT_EQ(e.key, "apps[0].dispatch_key");
  EXPECT_EQ(e.message, "must be at least 16 bytes, got 5");
  e = error_of(app("0123456789abcdef"));
  EXPECT_EQ(e.key, "apps[0].dispatch_key");
  EXPECT_NE(e.message.find("must differ from the app's secret"), std::string::npos);
  e = error_of(with_node("[dispatch]\nttl_s = 0\n"));
  EXPECT_EQ(e.key, "dispatch.ttl_s");
  e = error_of(with_node("[dispatch]\nmax_addresses = 17\n"));
  EXPECT_EQ(e.key, "dispatch.max_addresses");
  e = error_of(with_node("[dispatch]\nttl = 5\n"));
  EXPECT_EQ(e.key, "dispatch.ttl");
}

TEST(ConfigFileTest, DuplicateAppIdsAreRefused) {
  auto e = error_of(with_node("") + "\n[[apps]]\nid = \"demo\"\nsecret = \"fedcba9876543210\"\n");
  EXPECT_EQ(e.key, "apps[1].id");
  EXPECT_EQ(e.line, 9u);
  EXPECT_EQ(e.message, "duplicate app id \"demo\" (first at line 5)");
}

TEST(ConfigFileTest, TheEarliestErrorInTheFileIsReported) {
  auto e =
      error_of("[node]\nid = \"BAD\"\n[gateway]\nfd_headroom = -1\n" + std::string{minimal_apps});
  EXPECT_EQ(e.key, "node.id");
  EXPECT_EQ(e.line, 2u);
}

TEST(ConfigFileTest, MisplacedKeysAreReportedWhereTheyAre) {
  auto e = error_of(std::string{minimal_node} + "apps = []\n");
  EXPECT_EQ(e.key, "node.apps");
  EXPECT_EQ(e.line, 3u);
  EXPECT_EQ(e.message, "unknown key");
}

TEST(ConfigFileTest, BucketsAreAddedOrTunedWithStableIdsAndKinds) {
  auto result = parse_node_config(with_node(R"(
[[buckets]]
name = "orders"
kind = "user"
id = 10
priority = 7
keep_ops = 0
max_age_s = 3600
retry_budget = 3

[[buckets]]
name = "once"
priority = 9

[[businesses]]
name = "order_status"
bucket = "orders"
)"),
                                  "test.toml");
  ASSERT_TRUE(result.config) << result.error->to_string();
  const auto& sync = result.config->sync;
  const auto* orders = sync.bucket("orders");
  ASSERT_NE(orders, nullptr);
  EXPECT_EQ(orders->kind, bucket_kind::user);
  EXPECT_EQ(orders->id, 10);
  EXPECT_EQ(orders->priority, 7u);
  EXPECT_EQ(orders->retention.keep_count, std::nullopt);
  EXPECT_EQ(orders->retention.max_age_ms, std::optional<uint64_t>{3'600'000});
  EXPECT_EQ(orders->retry_budget, 3u);
  EXPECT_EQ(sync.bucket("once")->priority, 9u);
  EXPECT_EQ(sync.bucket("once")->id, 4);
  EXPECT_EQ(sync.bucket_of_business("order_status"), orders);
}

TEST(ConfigFileTest, TopicsSectionSetsRetentionAndLimits) {
  auto result =
      parse_node_config(with_node("[topics]\nkeep_ops = 50\nmax_age_s = 60\ncache_messages = 8\n"
                                  "idle_passivate_ms = 500\nmax_follows_per_user = 3\n"
                                  "fanout_linger_ms = 0\nfanout_linger_followers = 10\n"),
                        "test.toml");
  ASSERT_TRUE(result.config) << result.error->to_string();
  const auto& t = result.config->sync.topics;
  EXPECT_EQ(t.retention.keep_count, std::optional<uint64_t>{50});
  EXPECT_EQ(t.retention.max_age_ms, std::optional<uint64_t>{60'000});
  EXPECT_EQ(t.cache_messages, 8u);
  EXPECT_EQ(t.idle_passivate_ms, 500u);
  EXPECT_EQ(t.max_follows_per_user, 3u);
  EXPECT_EQ(t.fanout_linger_ms, 0u);
  EXPECT_EQ(t.fanout_linger_followers, 10u);
  EXPECT_EQ(error_of(with_node("[topics]\nfanout_linger_ms = 5000\n")).key,
            "topics.fanout_linger_ms");
  EXPECT_EQ(error_of(with_node("[topics]\ncache = 1\n")).key, "topics.cache");
  EXPECT_EQ(error_of(with_node("[topics]\nmax_follows_per_user = 0\n")).key,
            "topics.max_follows_per_user");
  EXPECT_EQ(error_of(with_node("[gateway]\ntopic_backlog_frames = 0\n")).key,
            "gateway.topic_backlog_frames");
}

// A cluster member's file: [cluster] needs a data_dir.
std::string member_of(const std::string& cluster) {
  return with_node("[storage]\ndata_dir = \"/var/lib/tidegate\"\n" + cluster);
}

TEST(ConfigFileTest, ClusterSectionSetsMembership) {
  auto none = parse_node_config(with_node(""), "test.toml");
  ASSERT_TRUE(none.config);
  EXPECT_FALSE(none.config->cluster.enabled);
  auto result = parse_node_config(
      member_of("[cluster]\nlisten = \"0.0.0.0:7201\"\nadvertise = \"10.0.0.1:7201\"\n"
                "seeds = [\"10.0.0.1:7201\", \"[::1]:7202\"]\nzone = \"hz-1\"\n"
                "heartbeat_ms = 100\nfailure_timeout_ms = 500\nredial_ms = 250\n"
                "max_moving_shards = 8\nhandoff_timeout_ms = 3000\n"),
      "test.toml");
  ASSERT_TRUE(result.config) << result.error->to_string();
  const auto& c = result.config->cluster;
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.listen.host, "0.0.0.0");
  EXPECT_EQ(c.advertise.host, "10.0.0.1");
  EXPECT_EQ(c.seeds, (std::vector<std::string>{"10.0.0.1:7201", "[::1]:7202"}));
  EXPECT_EQ(c.zone, "hz-1");
  EXPECT_EQ(c.heartbeat_ms, 100u);
  EXPECT_EQ(c.failure_timeout_ms, 500u);
  EXPECT_EQ(c.redial_ms, 250u);
  EXPECT_EQ(c.max_moving_shards, 8u);
  EXPECT_EQ(c.handoff_timeout_ms, 3000u);
  auto defaults = parse_node_config(member_of("[cluster]\n"), "test.toml");
  ASSERT_TRUE(defaults.config);
  EXPECT_EQ(defaults.config->cluster.advertise.host, "127.0.0.1");  // the listen address
  EXPECT_EQ(defaults.config->cluster.advertise.port, 7200);
  auto rules = parse_node_config(
      member_of("[cluster]\n[[cluster.zone_rules]]\nfirst_shard = 0\nlast_shard = 511\n"
                "zone = \"a\"\n[[cluster.zone_rules]]\nfirst_shard = 512\nlast_shard = 1023\n"
                "zone = \"b\"\n"),
      "test.toml");
  ASSERT_TRUE(rules.config) << rules.error->to_string();
  ASSERT_EQ(rules.config->cluster.zone_rules.size(), 2u);
  EXPECT_EQ(rules.config->cluster.zone_rules[1].first_shard, 512u);
  EXPECT_EQ(rules.config->cluster.zone_rules[1].last_shard, 1023u);
  EXPECT_EQ(rules.config->cluster.zone_rules[1].zone, "b");
}

TEST(ConfigFileTest, BadClusterSettingsAreRefusedByKey) {
  auto e = error_of(member_of("[cluster]\nseeds = \"127.0.0.1:7200\"\n"));
  EXPECT_EQ(e.key, "cluster.seeds");
  e = error_of(member_of("[cluster]\nseeds = [\"127.0.0.1:7200\", 7]\n"));
  EXPECT_EQ(e.key, "cluster.seeds[1]");
  e = error_of(member_of("[cluster]\nseeds = [\"127.0.0.1:0\"]\n"));
  EXPECT_EQ(e.key, "cluster.seeds[0]");
  EXPECT_EQ(e.message, "a seed must name a host and a port to dial, got \"127.0.0.1:0\"");
  e = error_of(member_of("[cluster]\nseeds = [\"no-port\"]\n"));
  EXPECT_EQ(e.key, "cluster.seeds[0]");
  e = error_of(member_of("[cluster]\nzone = \"Zone A\"\n"));
  EXPECT_EQ(e.key, "cluster.zone");
  e = error_of(member_of("[cluster]\nheartbeat_ms = 500\nfailure_timeout_ms = 600\n"));
  EXPECT_EQ(e.key, "cluster.failure_timeout_ms");
  EXPECT_EQ(e.message, "must be at least twice heartbeat_ms (500), got 600");
  e = error_of(member_of("[cluster]\nlisten = \"0.0.0.0:7200\"\n"));
  EXPECT_EQ(e.key, "cluster.advertise");
  e = error_of(member_of("[cluster]\nmax_moving_shards = 0\n"));
  EXPECT_EQ(e.key, "cluster.max_moving_shards");
  e = error_of(member_of("[cluster]\nhandoff_timeout_ms = 5\n"));
  EXPECT_EQ(e.key, "cluster.handoff_timeout_ms");
  e = error_of(member_of("[cluster]\nseed = []\n"));
  EXPECT_EQ(e.key, "cluster.seed");
  EXPECT_EQ(e.message, "unknown key (did you mean cluster.seeds?)");
  e = error_of(with_node("[cluster]\n"));
  EXPECT_EQ(e.key, "cluster");
  EXPECT_EQ(e.message, "a cluster member needs storage.data_dir");
  auto rule = [](const std::string& body) {
    return error_of(member_of("[cluster]\n[[cluster.zone_rules]]\n" + body));
  };
  e = rule("first_shard = 0\nlast_shard = 1024\nzone = \"a\"\n");
  EXPECT_EQ(e.key, "cluster.zone_rules[0].last_shard");
  EXPECT_EQ(e.message, "must be between 0 and 1023, got 1024");
  e = rule("first_shard = 9\nlast_shard = 3\nzone = \"a\"\n");
  EXPECT_EQ(e.key, "cluster.zone_rules[0].first_shard");
  e = rule("first_shard = 0\nlast_shard = 3\n");
  EXPECT_EQ(e.key, "cluster.zone_rules[0].zone");
  e = rule("last_shard = 3\nzone = \"a\"\n");
  EXPECT_EQ(e.key, "cluster.zone_rules[0].first_shard");
}

TEST(ConfigFileTest, BadBucketsAreRefusedByKey) {
  auto bucket = [](const std::string& body) { return error_of(with_node("[[buckets]]\n" + body)); };
  auto e = bucket("name = \"orders\"\nkind = \"user\"\n");
  EXPECT_EQ(e.key, "buckets[0].id");
  EXPECT_EQ(e.message, "missing required key (a new bucket needs a stable id, 1-254)");
  e = bucket("name = \"orders\"\nkind = \"user\"\nid = 255\n");  // the topics' logs
  EXPECT_EQ(e.key, "buckets[0].id");
  e = bucket("name = \"orders\"\nkind = \"user\"\nid = 3\n");
  EXPECT_EQ(e.key, "buckets[0].id");
  EXPECT_EQ(e.message, "id 3 belongs to bucket \"multi_device\"");
  e = bucket("name = \"orders\"\nkind = \"weekly\"\nid = 9\n");
  EXPECT_EQ(e.key, "buckets[0].kind");
  e = bucket("name = \"user\"\nkind = \"device\"\n");
  EXPECT_EQ(e.message, "the default bucket \"user\" has kind \"user\"");
  e = bucket("name = \"user\"\nid = 9\n");
  EXPECT_EQ(e.message, "the default bucket \"user\" has id 1");
  e = bucket("name = \"Orders!\"\nkind = \"user\"\nid = 9\n");
  EXPECT_EQ(e.key, "buckets[0].name");
  e = bucket("name = \"o\"\nkind = \"user\"\nid = 9\npriority = 1001\n");
  EXPECT_EQ(e.key, "buckets[0].priority");
  e = bucket("name = \"o\"\nkind = \"user\"\nid = 9\nretry_budget = 0\n");
  EXPECT_EQ(e.key, "buckets[0].retry_budget");
  e = bucket("name = \"o\"\nkind = \"user\"\nid = 9\n[[buckets]]\nname = \"o\"\n");
  EXPECT_EQ(e.key, "buckets[1].name");
  EXPECT_EQ(e.message, "duplicate bucket \"o\"");
  e = bucket("name = \"o\"\nkind = \"user\"\nid = 9\nkeep = 3\n");
  EXPECT_EQ(e.key, "buckets[0].keep");
}

TEST(ConfigFileTest, LoadsARealFile) {
  temp_file file{with_node("[gateway]\nlisten = \"127.0.0.1:0\"\n")};
  auto result = load_node_config(file.path());
  ASSERT_TRUE(result.config) << result.error->to_string();
  EXPECT_EQ(result.config->node_id, "node-a");
  EXPECT_EQ(result.config->gateway.listen.port, 0);
}

TEST(ConfigFileTest, ErrorsInARealFileNameItsPath) {
  temp_file file{with_node("[gateway]\nheartbeat_min_ms = \"soon\"\n")};
  auto result = load_node_config(file.path());
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->to_string(), file.path()
                                           + ":4:20: gateway.heartbeat_min_ms: expected an "
                                             "integer, got a string");
}

TEST(ConfigFileTest, MissingFileNamesThePathAndTheReason) {
  const std::string path = testing::TempDir() + "tidegate_no_such_dir/node.toml";
  auto result = load_node_config(path);
  ASSERT_TRUE(result.error);
  EXPECT_FALSE(result.config);
  EXPECT_EQ(result.error->file, path);
  EXPECT_EQ(result.error->line, 0u);
  EXPECT_EQ(result.error->to_string(), "cannot open " + path + ": No such file or directory");
  auto dir = load_node_config(testing::TempDir());
  ASSERT_TRUE(dir.error);
  EXPECT_EQ(dir.error->to_string(), "cannot read " + testing::TempDir() + ": Is a directory");
}

// Every file under config/, the demo cluster's members included.
TEST(ConfigFileTest, EveryExampleConfigParses) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator{
           std::filesystem::path{TIDEGATE_SOURCE_DIR} / "config"}) {
    if (entry.path().extension() == ".toml") {
      files.push_back(entry.path());
    }
  }
  ASSERT_FALSE(files.empty());
  for (const auto& path : files) {
    auto result = load_node_config(path.string());
    EXPECT_TRUE(result.config) << result.error->to_string();
  }
}

}  // namespace
}  // namespace tidegate::actors
