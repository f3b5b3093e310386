#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>

#include "bench/fanout/fanout_publisher.h"

namespace httplib {
class Client;
}  // namespace httplib

namespace tidegate::bench {

/// The fan-out harness' publisher for a Tidegate node: queued messages go to
/// POST /v1/topics/messages:batch, up to `batch` per request on one kept-alive connection, and
/// count as accepted once the node answered them with a version (durable). pump() sends one
/// request at a time; the window of the harness bounds what queues meanwhile.
class http_topic_publisher final : public fanout_publisher {
 public:
  http_topic_publisher(std::string host, int port, std::string authorization, std::string topic,
                       uint32_t batch);
  ~http_topic_publisher() override;

  std::string start(time_point deadline) override;
  bool publish(uint64_t seq, std::string_view payload) override;
  bool pump(time_point until, int wake_fd) override;
  bool answers_publishes() const override { return true; }
  uint64_t max_unanswered() const override { return 0; }
  uint64_t accepted() const override { return accepted_; }
  uint64_t refused() const override { return refused_; }
  std::string error() const override { return error_; }

 private:
  bool post_batch();

  std::string host_;
  int port_;
  std::string authorization_;
  std::string topic_;
  uint32_t batch_;
  std::unique_ptr<httplib::Client> http_;
  std::deque<std::pair<uint64_t, std::string>> queued_;
  uint64_t accepted_ = 0;
  uint64_t refused_ = 0;
  std::string error_;
};

}  // namespace tidegate::bench
