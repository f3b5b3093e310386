#include "tests/support/process_cluster.h"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <regex>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "actors/sync/bucket_config.h"
#include "storage/lmdb_env.h"
#include "storage/oplog_store.h"
#include "tests/support/test_node.h"

#include <nlohmann/json.hpp>

namespace tidegate::test {
namespace {

constexpr uint16_t cluster_port = 17200;

}  // namespace

process_cluster::process_cluster(std::vector<std::string> zones, std::string binary)
    : binary_(std::move(binary)) {
  std::random_device entropy;
  std::mt19937 rng{entropy() ^ static_cast<unsigned>(::getpid())};
  std::uniform_int_distribution<int> octet{2, 254};
  subnet_ = "127." + std::to_string(octet(rng)) + "." + std::to_string(octet(rng)) + ".";
  for (auto& zone : zones) {
    member m;
    m.zone = std::move(zone);
    m.data = std::make_unique<storage::temp_dir>();
    members_.push_back(std::move(m));
  }
}

process_cluster::~process_cluster() {
  for (auto& m : members_) {
    if (m.process) {
      m.process->signal(SIGCONT);  // a frozen child cannot be reaped otherwise
    }
  }
}

std::string process_cluster::address(size_t i) const {
  return subnet_ + std::to_string(i + 1) + ":" + std::to_string(cluster_port);
}

std::string process_cluster::config_text(size_t i, const std::vector<std::string>& seeds) const {
  std::string seed_list;
  for (const auto& s : seeds) {
    seed_list += (seed_list.empty() ? "\"" : ", \"") + s + "\"";
  }
  return "[node]\nid = \"" + name(i) + "\"\nscheduler_threads = 2\n"
         + "[gateway]\nlisten = \"127.0.0.1:0\"\ndrain_window_ms = 100\n"
         + "soft_disconnect_grace_ms = 100\n" + "[http]\nlisten = \"127.0.0.1:0\"\n"
         + "[storage]\ndata_dir = \"" + members_[i].data->path() + "\"\n"
         + "durability = \"periodic\"\n" + "[cluster]\nlisten = \"" + address(i) + "\"\nseeds = ["
         + seed_list + "]\n" + "zone = \"" + members_[i].zone + "\"\n" + cluster_extra_
         + "[[businesses]]\nname = \"chat\"\nbucket = \"user\"\n" + "[[apps]]\nid = \"" + test_app
         + "\"\nsecret = \"" + test_secret + "\"\ndispatch_key = \"" + test_dispatch_key + "\"\n";
}

bool process_cluster::start(size_t i, std::optional<std::vector<std::string>> seeds) {
  std::vector<std::string> all;
  for (size_t k = 0; k < members_.size(); ++k) {
    all.push_back(address(k));
  }
  auto path = members_[i].data->path() + "/node.toml";
  std::ofstream{path} << config_text(i, seeds ? *seeds : all);
  auto& m = members_[i];
  m.process =
      std::make_unique<child_process>(std::vector<std::string>{binary_, "node", "--config", path});
  auto line = m.process->wait_for_line("metrics on", std::chrono::seconds(20));
  std::smatch match;
  if (!line
      || !std::regex_search(
          *line, match,
          std::regex{"clients on [0-9.]+:([0-9]+), metrics on http://[0-9.]+:([0-9]+)"})) {
    ADD_FAILURE() << name(i) << " did not start: " << m.process->err();
    m.process.reset();
    return false;
  }
  m.client_port = static_cast<uint16_t>(std::stoi(match[1]));
  m.http_port = static_cast<uint16_t>(std::stoi(match[2]));
  if (!m.process->wait_for_line("cluster member", std::chrono::seconds(20))) {
    ADD_FAILURE() << name(i) << " did not join: " << m.process->err();
    return false;
  }
  return true;
}

bool process_cluster::start_all(const std::function<bool(const member_view&)>& ready,
                                std::chrono::milliseconds timeout) {
  for (size_t i = 0; i < members_.size(); ++i) {
    if (!start(i)) {
      return false;
    }
  }
  for (size_t i = 0; i < members_.size(); ++i) {
    if (!wait_for(i, ready, timeout)) {
      ADD_FAILURE() << name(i) << " did not get ready";
      return false;
    }
  }
  return true;
}

bool serving(const member_view& v) {
  return v.reachable == v.known && v.map_version > 0 && v.unavailable == 0
         && v.replicas_in_sync == 1024 && v.moving == 0 && v.learners == 0;
}

void process_cluster::signal(size_t i, int sig) {
  if (members_[i].process) {
    members_[i].process->signal(sig);
  }
}

void process_cluster::kill(size_t i) {
  if (auto& p = members_[i].process) {
    p->signal(SIGKILL);
    p->wait(std::chrono::seconds(10));
    members_[i].stderr_text += p->err();
    p.reset();
  }
}

std::optional<int> process_cluster::stop(size_t i) {
  auto& p = members_[i].process;
  if (!p) {
    return std::nullopt;
  }
  p->signal(SIGTERM);
  auto code = p->wait(std::chrono::seconds(20));
  members_[i].stderr_text += p->err();
  p.reset();
  return code;
}

std::optional<member_view> process_cluster::view(size_t i) const {
  if (!members_[i].process) {
    return std::nullopt;
  }
  httplib::Client http{"127.0.0.1", members_[i].http_port};
  http.set_connection_timeout(std::chrono::seconds(1));
  http.set_read_timeout(std::chrono::seconds(1));
  auto res = http.Get("/cluster");
  if (!res || res->status != 200) {
    return std::nullopt;
  }
  auto doc = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return std::nullopt;
  }
  member_view v;
  v.self = doc.value("self", "");
  v.leader = doc["leader"].is_string() ? doc["leader"].get<std::string>() : "";
  v.known = doc.value("known", size_t{0});
  v.reachable = doc.value("reachable", size_t{0});
  v.has_majority = doc.value("has_majority", false);
  for (const auto& m : doc["members"]) {
    v.states[m.value("name", "")] = m.value("state", "");
  }
  const auto& map = doc["map"];
  v.map_term = map.value("term", uint64_t{0});
  v.map_version = map.value("version", uint64_t{0});
  v.primaries = map.value("primaries", std::map<std::string, size_t>{});
  v.unavailable = map.value("unavailable", size_t{0});
  v.replicas_in_sync = map.value("replicas_in_sync", size_t{0});
  v.moving = map.value("moving", size_t{0});
  v.learners = map.value("learners", size_t{0});
  return v;
}

std::vector<shard_row> process_cluster::shards(size_t i) const {
  if (!members_[i].process) {
    return {};
  }
  httplib::Client http{"127.0.0.1", members_[i].http_port};
  http.set_read_timeout(std::chrono::seconds(2));
  auto res = http.Get("/cluster/shards");
  if (!res || res->status != 200) {
    return {};
  }
  auto doc = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  std::vector<shard_row> out;
  if (doc.is_discarded()) {
    return out;
  }
  for (const auto& s : doc["shards"]) {
    out.push_back({s.value("primary", ""), s.value("replica", ""), s.value("epoch", uint64_t{0}),
                   s.value("replica_in_sync", false), s.value("learner", "")});
  }
  return out;
}

bool process_cluster::wait_for(size_t i, const std::function<bool(const member_view&)>& pred,
                               std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    if (auto v = view(i); v && pred(*v)) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

std::pair<int, std::string> process_cluster::call(size_t i, const std::string& method,
                                                  const std::string& target,
                                                  const std::string& body) const {
  httplib::Client http{"127.0.0.1", members_[i].http_port};
  http.set_connection_timeout(std::chrono::seconds(2));
  http.set_read_timeout(std::chrono::seconds(10));
  httplib::Headers headers{
      {"Authorization", std::string{"Bearer "} + test_app + ":" + test_secret}};
  auto res = method == "POST"  ? http.Post(target, headers, body, "application/json")
             : method == "PUT" ? http.Put(target, headers, body, "application/json")
                               : http.Get(target, headers);
  if (!res) {
    return {0, ""};
  }
  return {res->status, res->body};
}

std::pair<int, std::string> process_cluster::post(size_t i, const std::string& path,
                                                  const std::string& body) const {
  return call(i, "POST", path, body);
}

std::pair<int, std::string> process_cluster::put(size_t i, const std::string& path,
                                                 const std::string& body) const {
  return call(i, "PUT", path, body);
}

std::pair<int, std::string> process_cluster::get(size_t i, const std::string& target) const {
  return call(i, "GET", target, {});
}

std::string uid_in(uint32_t first, uint32_t last) {
  for (int i = 0;; ++i) {
    auto uid = "user-" + std::to_string(i);
    auto shard = actors::shard_of(uid, 1024);
    if (shard >= first && shard <= last) {
      return uid;
    }
  }
}

std::string owner_with_primary(const std::vector<shard_row>& shards, const std::string& primary,
                               int skip) {
  for (int k = 0;; ++k) {
    auto owner = "owner-" + std::to_string(k);
    if (shards[actors::shard_of(owner, static_cast<uint16_t>(shards.size()))].primary == primary
        && skip-- == 0) {
      return owner;
    }
  }
}

std::vector<std::string> read_owner_log(const std::string& dir, const std::string& owner) {
  storage::env_options options;
  options.mode = storage::durability::periodic;  // as the members run
  auto env = storage::lmdb_env::open(dir, options);
  EXPECT_TRUE(env) << dir;
  if (!env) {
    return {};
  }
  storage::oplog_store store{**env};
  auto shard = actors::shard_of(owner, 1024);
  uint8_t bucket = actors::default_sync_config().bucket("user")->id;
  auto page = store.read_range(shard, bucket, owner, 0, 10'000, size_t{64} << 20);
  EXPECT_TRUE(page);
  std::vector<std::string> out;
  if (page) {
    for (const auto& r : page->records) {
      EXPECT_EQ(r.version, out.size() + 1) << owner << " in " << dir;
      out.push_back(r.msg_id);
    }
  }
  return out;
}

}  // namespace tidegate::test
