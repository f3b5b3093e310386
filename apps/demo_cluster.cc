#include "apps/demo_cluster.h"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include <httplib.h>
#include <toml++/toml.h>

#include "actors/config/config_file.h"
#include "actors/config/endpoint.h"

#include <nlohmann/json.hpp>

namespace tidegate::apps {
namespace {

using clock_type = std::chrono::steady_clock;

// Rewrites member `index`'s config at `path` for an ephemeral run: free client and HTTP ports, the
// cluster address moved from each member's configured host to `subnet` + its index (so that
// concurrent runs do not collide), seeds likewise, storage under `dir`. Returns the new file's
// path, or "" with `error` set.
std::string rewrite_ephemeral(const std::string& path, size_t index,
                              const std::vector<std::string>& listens, const std::string& subnet,
                              const std::string& dir, std::string& error) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    error = path + ": " + std::string{e.description()};
    return {};
  }
  auto moved = [&](const std::string& address) {
    for (size_t k = 0; k < listens.size(); ++k) {
      if (listens[k] == address) {
        return subnet + std::to_string(k + 1) + address.substr(address.rfind(':'));
      }
    }
    return address;
  };
  // A table the file lacks is added (its defaults listen on fixed ports).
  auto table = [&t](const char* name) {
    if (!t[name].as_table()) {
      t.insert_or_assign(name, toml::table{});
    }
    return t[name].as_table();
  };
  table("gateway")->insert_or_assign("listen", "127.0.0.1:0");
  table("http")->insert_or_assign("listen", "127.0.0.1:0");
  table("storage")->insert_or_assign("data_dir", dir + "/data");
  if (auto* cluster = t["cluster"].as_table()) {
    cluster->insert_or_assign("listen", moved(listens[index]));
    if (auto* seeds = cluster->get_as<toml::array>("seeds")) {
      toml::array next;
      for (auto& seed : *seeds) {
        next.push_back(moved(seed.value_or(std::string{})));
      }
      cluster->insert_or_assign("seeds", next);
    }
  }
  auto out = dir + "/node.toml";
  std::ofstream{out} << t << "\n";
  return out;
}

nlohmann::json get_json(uint16_t port, const std::string& path) {
  httplib::Client http{"127.0.0.1", port};
  http.set_connection_timeout(std::chrono::seconds(1));
  http.set_read_timeout(std::chrono::seconds(1));
  auto res = http.Get(path);
  if (!res || res->status != 200) {
    return nullptr;
  }
  return nlohmann::json::parse(res->body, nullptr, false);
}

}  // namespace

bool demo_cluster::start(const std::vector<std::string>& configs, bool ephemeral,
                         std::string& error) {
  auto exe = bench::self_executable();
  if (exe.empty()) {
    error = "cannot find this executable (/proc/self/exe)";
    return false;
  }
  // Every file must load before anything starts; the cluster addresses are needed to move the
  // seeds of an ephemeral run.
  std::vector<actors::node_config> loaded;
  std::vector<std::string> listens;
  for (const auto& path : configs) {
    auto cfg = actors::load_node_config(path);
    if (cfg.error) {
      error = cfg.error->to_string();
      return false;
    }
    if (!cfg.config->cluster.enabled) {
      error = path + ": the demo's members need a [cluster] table";
      return false;
    }
    listens.push_back(actors::to_string(cfg.config->cluster.listen));
    loaded.push_back(*cfg.config);
  }
  std::mt19937 rng{std::random_device{}() ^ static_cast<unsigned>(::getpid())};
  std::uniform_int_distribution<int> octet{2, 254};
  auto subnet = "127." + std::to_string(octet(rng)) + "." + std::to_string(octet(rng)) + ".";
  for (size_t i = 0; i < configs.size(); ++i) {
    demo_member m;
    m.name = loaded[i].node_id;
    m.zone = loaded[i].cluster.zone;
    m.config = configs[i];
    auto dir = scratch_.path.string() + "/" + m.name;
    std::filesystem::create_directories(dir);
    if (ephemeral) {
      m.config = rewrite_ephemeral(configs[i], i, listens, subnet, dir, error);
      if (m.config.empty()) {
        stop();
        return false;
      }
    }
    m.process = std::make_unique<bench::process>(
        std::vector<std::string>{exe, "node", "--config", m.config}, std::vector<std::string>{},
        dir + "/node.log");
    auto line = m.process->read_line(clock_type::now() + std::chrono::seconds(30));
    std::smatch match;
    if (!line
        || !std::regex_search(
            *line, match,
            std::regex{"clients on [^ ]+:([0-9]+), metrics on http://[^ ]+:([0-9]+)"})) {
      std::ifstream log{dir + "/node.log"};
      std::stringstream text;
      text << log.rdbuf();
      error = m.name + " (" + m.config + ") did not start: " + text.str();
      members_.push_back(std::move(m));
      stop();
      return false;
    }
    m.client_port = static_cast<uint16_t>(std::stoi(match[1]));
    m.http_port = static_cast<uint16_t>(std::stoi(match[2]));
    members_.push_back(std::move(m));
  }
  return true;
}

demo_member_status demo_cluster::status(size_t i) const {
  demo_member_status s;
  auto view = get_json(members_[i].http_port, "/cluster");
  if (view.is_null() || view.is_discarded()) {
    return s;
  }
  s.answered = true;
  s.leader = view["leader"].is_string() ? view["leader"].get<std::string>() : "";  // null: none
  s.reachable = view.value("reachable", size_t{0});
  s.has_majority = view.value("has_majority", false);
  const auto& map = view["map"];
  if (map.is_object()) {
    s.map_version = map.value("version", uint64_t{0});
    s.unavailable = map.value("unavailable", size_t{0});
    if (map.contains("primaries") && map["primaries"].contains(members_[i].name)) {
      s.primaries = map["primaries"][members_[i].name].get<size_t>();
    }
  }
  httplib::Client http{"127.0.0.1", members_[i].http_port};
  http.set_connection_timeout(std::chrono::seconds(1));
  http.set_read_timeout(std::chrono::seconds(1));
  if (auto res = http.Get("/metrics"); res && res->status == 200) {
    std::smatch m;
    if (std::regex_search(res->body, m, std::regex{"\ntidegate_connections\\{[^}]*\\} ([0-9]+)"})) {
      s.connections = std::stoull(m[1]);
    }
  }
  return s;
}

bool demo_cluster::wait_serving(clock_type::time_point deadline) const {
  while (clock_type::now() < deadline) {
    bool all = !members_.empty();
    for (size_t i = 0; i < members_.size() && all; ++i) {
      auto s = status(i);
      all = s.answered && s.has_majority && s.reachable == members_.size() && s.map_version > 0
            && s.unavailable == 0;
    }
    if (all) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

std::string demo_cluster::stop() {
  std::string problems;
  for (auto& m : members_) {
    if (m.process) {
      m.process->signal(SIGTERM);
    }
  }
  for (auto& m : members_) {
    if (!m.process) {
      continue;
    }
    auto code = m.process->wait(clock_type::now() + std::chrono::seconds(15));
    if (!code) {
      m.process->signal(SIGKILL);
      m.process->wait(clock_type::now() + std::chrono::seconds(5));
      problems += " " + m.name + " did not stop within 15 s;";
    } else if (*code != 0) {
      problems += " " + m.name + " exited with " + std::to_string(*code) + ";";
    }
    m.process.reset();
  }
  return problems;
}

}  // namespace tidegate::apps
