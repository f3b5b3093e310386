#include "client/dispatch_cache.h"

#include <httplib.h>

#include "client/endpoint.h"

namespace tidegate::client {

dispatch_cache::dispatch_cache(dispatch_config config) : config_(std::move(config)) {}

dispatch_cache::~dispatch_cache() {
  if (refresher_.joinable()) {
    refresher_.join();
  }
}

uint64_t dispatch_cache::now_s() const {
  if (config_.clock) {
    return config_.clock();
  }
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::optional<protocol::dispatch_answer> dispatch_cache::ask(const std::string& address,
                                                             std::string& error) {
  endpoint ep;
  if (!parse_endpoint(address, ep, error)) {
    return std::nullopt;
  }
  httplib::Client http{ep.host, ep.port};
  auto timeout = std::chrono::duration_cast<std::chrono::microseconds>(config_.timeout).count();
  http.set_connection_timeout(0, timeout);
  http.set_read_timeout(0, timeout);
  httplib::Params params{{"app", config_.app_id},
                         {config_.by_device ? "device" : "uid", config_.owner}};
  auto result = http.Get("/v1/dispatch", params, httplib::Headers{});
  if (!result) {
    error = address + ": " + httplib::to_string(result.error());
    return std::nullopt;
  }
  if (result->status != 200) {
    error = address + ": HTTP " + std::to_string(result->status) + " " + result->body;
    return std::nullopt;
  }
  auto answer = protocol::parse_dispatch_answer(result->body, error);
  if (!answer) {
    error = address + ": " + error;
    return std::nullopt;
  }
  auto status =
      protocol::check_dispatch(*answer, config_.key, config_.app_id, config_.owner, now_s());
  if (status != protocol::dispatch_status::ok) {
    error = address + ": answer refused: " + protocol::to_string(status);
    std::lock_guard<std::mutex> guard{mutex_};
    ++counters_.refused;
    return std::nullopt;
  }
  return answer;
}

std::string dispatch_cache::refresh() {
  std::string errors;
  for (const auto& address : config_.endpoints) {
    {
      std::lock_guard<std::mutex> guard{mutex_};
      ++counters_.requests;
    }
    std::string error;
    auto answer = ask(address, error);
    std::lock_guard<std::mutex> guard{mutex_};
    if (answer) {
      answer_ = std::move(answer);
      suspect_ = false;
      ++counters_.answers;
      last_error_.clear();
      return {};
    }
    ++counters_.failures;
    errors += (errors.empty() ? "" : "; ") + error;
  }
  if (config_.endpoints.empty()) {
    errors = "no dispatch endpoint configured";
  }
  std::lock_guard<std::mutex> guard{mutex_};
  last_error_ = errors;
  return errors;
}

void dispatch_cache::refresh_async() {
  std::lock_guard<std::mutex> guard{mutex_};
  if (refreshing_) {
    return;
  }
  refreshing_ = true;
  if (refresher_.joinable()) {
    refresher_.join();  // finished: it cleared refreshing_ as its last step
  }
  refresher_ = std::thread{[this] {
    refresh();
    std::lock_guard<std::mutex> done{mutex_};
    refreshing_ = false;
  }};
}

bool dispatch_cache::refreshing() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return refreshing_;
}

std::vector<std::string> dispatch_cache::addresses() {
  std::vector<std::string> out;
  bool refresh = false;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    auto now = now_s();
    if (!answer_) {
      refresh = true;
    } else if (now < answer_->expires_at_s) {
      out = answer_->addresses;
      refresh = suspect_;
    } else if (now < answer_->expires_at_s + static_cast<uint64_t>(config_.stale_for.count())) {
      out = answer_->addresses;
      refresh = true;
    } else {
      refresh = true;  // too old to trust at all
    }
  }
  if (refresh) {
    refresh_async();
  }
  return out;
}

void dispatch_cache::invalidate() {
  std::lock_guard<std::mutex> guard{mutex_};
  suspect_ = true;
}

std::optional<protocol::dispatch_answer> dispatch_cache::answer() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return answer_;
}

dispatch_counters dispatch_cache::counters() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return counters_;
}

std::string dispatch_cache::last_error() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return last_error_;
}

}  // namespace tidegate::client
