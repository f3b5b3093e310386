#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace httplib {
class Server;
}  // namespace httplib

namespace tidegate::actors {

/// One HTTP request as a registered handler sees it (no httplib types leak from here).
struct http_request {
  std::string method;
  std::string path;    ///< Without the query string.
  std::string target;  ///< The request target exactly as sent: path, then "?query" if any.
  std::vector<std::pair<std::string, std::string>> params;   ///< Decoded query, in order.
  std::vector<std::pair<std::string, std::string>> headers;  ///< Names in lower case.
  std::string body;
  std::string remote_addr;  ///< The peer's IP address, e.g. "127.0.0.1".

  /// The first header named `lower_name` (lower case), or null.
  const std::string* header(const std::string& lower_name) const;
};

/// What a registered handler answers.
struct http_reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

/// The node's admin HTTP endpoint: GET /metrics (Prometheus text 0.0.4) and GET /healthz
/// ("ok"); anything else is 404. It serves from threads of its own (one accept thread and a
/// pool of two), never from CAF's. Not thread-safe: one owner calls start, stop and port.
class http_server {
 public:
  /// Returns the /metrics body; called on a server thread, so it must be thread-safe.
  using metrics_source = std::function<std::string()>;

  /// Answers one request; called on a server thread, so it must be thread-safe. It may block
  /// (it holds one of the server's threads), never a CAF worker.
  using handler = std::function<http_reply(const http_request&)>;
  /// Fills in the body of an error the server made itself (404, 413 over set_max_body_bytes,
  /// 400 unparsable request): nullopt keeps httplib's empty body. Called on a server thread.
  using error_renderer = std::function<std::optional<http_reply>(int status, const http_request&)>;

  /// Serves on `host`:`port` once started; port 0 picks a free port (see port()).
  http_server(std::string host, uint16_t port, metrics_source metrics);
  /// Stops the server (stop()).
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Serves `method` ("GET", "POST") on exactly `path` with `h`. Only before start().
  void handle(std::string method, std::string path, handler h);

  /// Sets the renderer of the server's own errors. Only before start().
  void set_error_renderer(error_renderer render);

  /// Request bodies over `bytes` are refused with 413 before they are read (default: no
  /// limit). Only before start().
  void set_max_body_bytes(size_t bytes) { max_body_bytes_ = bytes; }

  /// Threads serving requests (default 2; handlers that wait hold one each). Only before
  /// start().
  void set_worker_threads(size_t threads) { worker_threads_ = threads; }

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
  struct route {
    std::string method;
    std::string path;
    handler h;
  };
  std::vector<route> routes_;
  error_renderer render_error_;
  size_t max_body_bytes_ = 0;  // 0: httplib's default (no limit)
  size_t worker_threads_ = 2;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> done_{false};  // set by thread_ when its listen loop has returned
};

}  // namespace tidegate::actors
