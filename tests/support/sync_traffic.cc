#include "tests/support/sync_traffic.h"

#include <gtest/gtest.h>

#include "tests/support/raw_client.h"
#include "tests/support/test_node.h"
#include "tests/support/test_phone.h"

#include <nlohmann/json.hpp>

namespace tidegate::test {

using namespace std::chrono_literals;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

sync_traffic::sync_traffic(process_cluster& cluster, std::vector<std::string> owners,
                           const std::vector<size_t>& client_members)
    : cluster_(cluster), owners_(std::move(owners)) {
  for (size_t i = 0; i < owners_.size(); ++i) {
    const auto& owner = owners_[i];
    stores_.push_back(std::make_unique<client::sync_store>());
    auto cc = test_phone(owner, stores_.back().get());
    auto member = client_members[i % client_members.size()];
    cc.addresses.push_back("127.0.0.1:" + std::to_string(cluster_.client_port(member)));
    cc.sync.on_ops = [this, owner](const std::string& bucket, const std::vector<v1::Op>& ops) {
      if (bucket != "user") {
        return;
      }
      for (const auto& op : ops) {
        received_[owner].emplace_back(op.version(), op.payload());
      }
    };
    clients_.push_back(std::make_unique<client::connection>(loop_, cc));
    clients_.back()->start();
  }
}

sync_traffic::~sync_traffic() {
  stop_backend();
}

void sync_traffic::start_backend(std::vector<size_t> via, int ops_per_owner, int publishers,
                                 bool batched) {
  for (int p = 0; p < publishers; ++p) {
    backend_.emplace_back(
        [this, via, ops_per_owner, p, batched] { publish(via, ops_per_owner, p, batched); });
  }
}

void sync_traffic::record(const std::string& owner, uint64_t version, const std::string& msg_id) {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    acked_[owner][version] = msg_id;
  }
  if (on_acked) {
    on_acked(owner);
  }
}

void sync_traffic::publish(const std::vector<size_t>& via, int ops_per_owner, int publisher,
                           bool batched) {
  for (int k = 0; k < ops_per_owner && !stop_; ++k) {
    auto msg_id_of = [&](const std::string& owner) {
      return owner + "-" + std::to_string(publisher) + "-" + std::to_string(k);
    };
    auto op = [&](const std::string& owner) {
      return json{{"business", "chat"},
                  {"owner", owner},
                  {"payload", msg_id_of(owner)},
                  {"msg_id", msg_id_of(owner)}};
    };
    std::vector<std::string> pending = owners_;  // not acknowledged yet, in order
    auto deadline = clock_type::now() + 30s;
    for (size_t attempt = 0; !pending.empty() && clock_type::now() < deadline; ++attempt) {
      auto member = via[(attempt + static_cast<size_t>(k)) % via.size()];
      if (!batched) {
        auto [status, body] = cluster_.post(member, "/v1/sync/ops", op(pending.front()).dump());
        if (status == 200) {
          record(pending.front(), json::parse(body).value("version", uint64_t{0}),
                 msg_id_of(pending.front()));
          pending.erase(pending.begin());
          attempt = 0;
          continue;
        }
      } else {
        json ops = json::array();
        for (const auto& owner : pending) {
          ops.push_back(op(owner));
        }
        auto [status, body] =
            cluster_.post(member, "/v1/sync/ops:batch", json{{"ops", ops}}.dump());
        if (status == 200) {
          auto results = json::parse(body)["results"];
          std::vector<std::string> failed;
          for (size_t i = 0; i < pending.size() && i < results.size(); ++i) {
            if (results[i].contains("version")) {
              record(pending[i], results[i]["version"].get<uint64_t>(), msg_id_of(pending[i]));
            } else {
              failed.push_back(pending[i]);
            }
          }
          pending = std::move(failed);
          if (pending.empty()) {
            continue;
          }
        }
      }
      std::this_thread::sleep_for(20ms);
    }
    if (publisher == 0) {
      ++rounds_;
      if (after_round) {
        after_round(rounds_);
      }
    }
  }
}

void sync_traffic::stop_backend() {
  stop_ = true;
  for (auto& t : backend_) {
    if (t.joinable()) {
      t.join();
    }
  }
}

size_t sync_traffic::received_count() const {
  size_t n = 0;
  for (const auto& [owner, list] : received_) {
    n += list.size();
  }
  return n;
}

size_t sync_traffic::acked_of(const std::string& owner) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto it = acked_.find(owner);
  return it == acked_.end() ? 0 : it->second.size();
}

size_t sync_traffic::acked_count() {
  std::lock_guard<std::mutex> guard{mutex_};
  size_t n = 0;
  for (const auto& [owner, ops] : acked_) {
    n += ops.size();
  }
  return n;
}

void sync_traffic::run_clients_until(const std::function<bool()>& done,
                                     std::chrono::seconds timeout) {
  loop_.run_until([&] { return done() && received_count() >= acked_count(); },
                  clock_type::now() + timeout);
}

void sync_traffic::verify() {
  stop_backend();
  for (auto& c : clients_) {
    c->stop();
  }
  std::lock_guard<std::mutex> guard{mutex_};
  for (const auto& owner : owners_) {
    const auto& acks = acked_[owner];
    const auto& list = received_[owner];
    std::vector<uint64_t> versions;
    for (const auto& [version, payload] : list) {
      versions.push_back(version);
      auto it = acks.find(version);
      ASSERT_NE(it, acks.end()) << owner << " got version " << version << " never acknowledged";
      EXPECT_EQ(payload, it->second) << owner << " version " << version;
    }
    std::vector<uint64_t> expected;
    for (uint64_t v = 1; v <= acks.size(); ++v) {
      expected.push_back(v);
    }
    ASSERT_EQ(acks.empty() ? 0 : acks.rbegin()->first, acks.size())
        << owner << ": acknowledged versions have a gap";
    EXPECT_EQ(versions, expected) << owner << ": each version once, in order, none missing";
  }
}

}  // namespace tidegate::test
