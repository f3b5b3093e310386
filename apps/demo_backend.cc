#include "apps/demo_backend.h"

#include <chrono>
#include <memory>
#include <random>
#include <thread>

#include <httplib.h>

#include <nlohmann/json.hpp>

namespace tidegate::apps {
namespace {

using clock_type = std::chrono::steady_clock;
using json = nlohmann::json;

class ingress {
 public:
  ingress(const std::vector<uint16_t>& ports, const std::string& app_id, const std::string& secret)
      : auth_{{"Authorization", "Bearer " + app_id + ":" + secret}} {
    for (auto port : ports) {
      auto client = std::make_unique<httplib::Client>("127.0.0.1", port);
      client->set_connection_timeout(std::chrono::seconds(1));
      client->set_read_timeout(std::chrono::seconds(5));
      clients_.push_back(std::move(client));
    }
  }

  // POSTs `body` to the next member until one answers 200 (a failover or a partition answers
  // 503 meanwhile), or 10 s passed or `stop` is set; true if it was acknowledged.
  bool post(const std::string& path, const json& body, const std::atomic<bool>& stop,
            backend_totals& totals) {
    auto text = body.dump();
    auto deadline = clock_type::now() + std::chrono::seconds(10);
    while (!stop.load() && clock_type::now() < deadline) {
      auto& client = *clients_[next_++ % clients_.size()];
      auto res = client.Post(path, auth_, text, "application/json");
      if (res && res->status == 200) {
        return true;
      }
      totals.retries.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

 private:
  httplib::Headers auth_;
  std::vector<std::unique_ptr<httplib::Client>> clients_;
  size_t next_ = 0;
};

}  // namespace

void run_backend(const std::vector<uint16_t>& http_ports, const std::string& app_id,
                 const std::string& secret, const std::vector<std::string>& users,
                 uint32_t op_every_ms, uint32_t message_every_ms, const std::atomic<bool>& stop,
                 backend_totals& totals) {
  ingress http{http_ports, app_id, secret};
  constexpr size_t follow_batch = 100;
  for (size_t i = 0; i < users.size() && !stop.load(); i += follow_batch) {
    json batch = json::array();
    for (size_t k = i; k < users.size() && k < i + follow_batch; ++k) {
      batch.push_back(users[k]);
    }
    if (http.post("/v1/topics/follow", {{"topic", demo_topic}, {"users", batch}}, stop, totals)) {
      totals.followed.fetch_add(batch.size());
    }
  }
  std::mt19937_64 rng{7};
  auto next_op = clock_type::now();
  auto next_message = clock_type::now();
  uint64_t op_number = 0;
  uint64_t message_number = 0;
  auto run_id = std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  while (!stop.load()) {
    auto now = clock_type::now();
    if (now >= next_op && !users.empty()) {
      next_op += std::chrono::milliseconds(op_every_ms);
      const auto& user = users[rng() % users.size()];
      auto msg_id = "demo-" + run_id + "-op-" + std::to_string(++op_number);
      if (http.post("/v1/sync/ops",
                    {{"business", "chat"},
                     {"owner", user},
                     {"msg_id", msg_id},
                     {"payload", "hello " + user + " #" + std::to_string(op_number)}},
                    stop, totals)) {
        totals.ops.fetch_add(1);
      }
    }
    if (now >= next_message) {
      next_message += std::chrono::milliseconds(message_every_ms);
      auto msg_id = "demo-" + run_id + "-news-" + std::to_string(++message_number);
      if (http.post("/v1/topics/messages",
                    {{"topic", demo_topic},
                     {"msg_id", msg_id},
                     {"payload", "breaking news #" + std::to_string(message_number)}},
                    stop, totals)) {
        totals.messages.fetch_add(1);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace tidegate::apps
