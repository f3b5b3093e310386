#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace httplib {
class Server;
}  // namespace httplib

namespace tidegate::actors {

/// The node's admin HTTP endpoint: GET /metrics (Prometheus text 0.0.4) and GET /healthz
/// ("ok"); anything else is 404. It serves from threads of its own (one accept thread and a
/// pool of two), never from CAF's. Not thread-safe: one owner calls start, stop and port.
class http_server {
 public:
  /// Returns the /metrics body; called on a server thread, so it must be thread-safe.
  using metrics_source = std::function<std::string()>;

  /// Serves on `host`:`port` once started; port 0 picks a free port (see port()).
  http_server(std::string host, uint16_t port, metrics_source metrics);
  /// Stops the server (stop()).
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Binds and starts serving; returns why not, naming the address ("cannot listen on
  /// 127.0.0.1:7180: Address already in use"). Requests are served once this returns.
  std::optional<std::string> start();

  /// Stops accepting, waits for the threads to finish. Idempotent.
  void stop();

  /// The bound port once started (the chosen one for port 0), else the configured one.
  uint16_t port() const { return port_; }

 private:
  std::string host_;
  uint16_t port_;
  metrics_source metrics_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> done_{false};  // set by thread_ when its listen loop has returned
};

}  // namespace tidegate::actors
