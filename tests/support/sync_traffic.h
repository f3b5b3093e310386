#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "client/connection.h"
#include "client/event_loop.h"
#include "client/sync_store.h"
#include "tests/support/process_cluster.h"

namespace tidegate::test {

/// Steady SYNC traffic through a process_cluster, checked end to end (DESIGN §14.1-2): a
/// backend thread publishes ops for `owners` round-robin through some members, retrying each
/// (same msg_id) until it is acknowledged, and one client per owner records what it receives.
/// verify() then checks that every acknowledged op reached its owner's client exactly once,
/// in version order, with the payload acknowledged under that version, and no gap.
/// The clients run on the thread that calls run_clients_until(); the rest of a test (kills,
/// joins, drains) runs on another thread meanwhile.
class sync_traffic {
 public:
  /// Clients of owner i connect to member `client_members[i % size]`.
  sync_traffic(process_cluster& cluster, std::vector<std::string> owners,
               const std::vector<size_t>& client_members);
  ~sync_traffic();

  /// Starts the backend: `publishers` threads, each up to `ops_per_owner` rounds over every
  /// owner with msg_ids of its own, publishing through `via` members in turn, until
  /// stop_backend(). Each op is retried for up to 30 s. With two or more, an owner has ops of
  /// different publishers in flight at once (they race for its next version).
  /// `batched`: each round is one /v1/sync/ops:batch of an op per owner (failed ops go
  /// again in the next), so every owner has an op in flight at once.
  void start_backend(std::vector<size_t> via, int ops_per_owner, int publishers = 1,
                     bool batched = false);
  /// Finishes the rounds in progress and joins the backend threads.
  void stop_backend();
  /// Rounds the first publisher completed so far.
  int rounds() const { return rounds_.load(); }
  /// Ops of `owner` acknowledged so far.
  size_t acked_of(const std::string& owner);

  /// Runs the clients until `done()` holds and they received every acknowledged op, or
  /// `timeout`. `done` is polled on this thread.
  void run_clients_until(const std::function<bool()>& done, std::chrono::seconds timeout);

  /// Stops the clients and checks what they received against what was acknowledged.
  void verify();

  /// Called by the backend after each acknowledged op, with the owner (on its thread).
  std::function<void(const std::string& owner)> on_acked;
  /// Called by the first publisher after each of its rounds, with the rounds done, on its
  /// thread: with one publisher, no op is in flight then.
  std::function<void(int rounds)> after_round;

 private:
  void publish(const std::vector<size_t>& via, int ops_per_owner, int publisher, bool batched);
  void record(const std::string& owner, uint64_t version, const std::string& msg_id);
  size_t received_count() const;
  size_t acked_count();

  process_cluster& cluster_;
  std::vector<std::string> owners_;
  client::event_loop loop_;
  std::vector<std::unique_ptr<client::sync_store>> stores_;
  std::vector<std::unique_ptr<client::connection>> clients_;
  // What the clients received: owner -> (version, payload) in delivery order (loop thread).
  std::map<std::string, std::vector<std::pair<uint64_t, std::string>>> received_;
  // What the backend had acknowledged: owner -> version -> msg_id.
  std::mutex mutex_;
  std::map<std::string, std::map<uint64_t, std::string>> acked_;
  std::atomic<bool> stop_{false};
  std::atomic<int> rounds_{0};
  std::vector<std::thread> backend_;
};

}  // namespace tidegate::test
