#include "bench/load/http_topic_publisher.h"

#include <poll.h>

#include <chrono>

#include <httplib.h>

namespace tidegate::bench {

http_topic_publisher::http_topic_publisher(std::string host, int port, std::string authorization,
                                           std::string topic, uint32_t batch)
    : host_(std::move(host)),
      port_(port),
      authorization_(std::move(authorization)),
      topic_(std::move(topic)),
      batch_(batch == 0 ? 1 : batch) {}

http_topic_publisher::~http_topic_publisher() = default;

std::string http_topic_publisher::start(time_point) {
  http_ = std::make_unique<httplib::Client>(host_, port_);
  http_->set_keep_alive(true);
  http_->set_tcp_nodelay(true);
  http_->set_connection_timeout(std::chrono::seconds{5});
  http_->set_read_timeout(std::chrono::seconds{30});
  http_->set_write_timeout(std::chrono::seconds{30});
  return "";
}

bool http_topic_publisher::publish(uint64_t seq, std::string_view payload) {
  queued_.emplace_back(seq, std::string{payload});
  return true;
}

bool http_topic_publisher::post_batch() {
  std::string body = R"({"topic":")" + topic_ + R"(","messages":[)";
  size_t n = 0;
  while (!queued_.empty() && n < batch_) {
    auto& [seq, payload] = queued_.front();
    body += (n == 0 ? "" : ",");
    body += R"({"msg_id":"m)" + std::to_string(seq) + R"(","payload":")" + payload + "\"}";
    queued_.pop_front();
    ++n;
  }
  body += "]}";
  auto res = http_->Post("/v1/topics/messages:batch", {{"Authorization", authorization_}}, body,
                         "application/json");
  if (!res || res->status != 200) {
    error_ = res ? "HTTP " + std::to_string(res->status) + ": " + res->body.substr(0, 200)
                 : "no answer: " + httplib::to_string(res.error());
    return false;
  }
  size_t versions = 0;
  for (auto at = res->body.find("\"version\":"); at != std::string::npos;
       at = res->body.find("\"version\":", at + 10)) {
    ++versions;
  }
  accepted_ += versions;
  if (versions < n) {
    refused_ += n - versions;
    if (error_.empty()) {
      error_ = "refused: " + res->body.substr(0, 200);
    }
  }
  return true;
}

bool http_topic_publisher::pump(time_point until, int wake_fd) {
  if (!queued_.empty()) {
    return post_batch();
  }
  // Nothing to send: sleep until `until` (or the wake fd), to the nanosecond. Returning at
  // once would make a paced run spin on a core the node under test needs.
  auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(
      until - std::chrono::steady_clock::now());
  if (left.count() <= 0) {
    return true;
  }
  timespec timeout{static_cast<time_t>(left.count() / 1'000'000'000),
                   static_cast<long>(left.count() % 1'000'000'000)};
  pollfd p{wake_fd, POLLIN, 0};
  ::ppoll(&p, wake_fd >= 0 ? 1 : 0, &timeout, nullptr);
  return true;
}

}  // namespace tidegate::bench
