#include "actors/admin/http_server.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include <httplib.h>

namespace tidegate::actors {
namespace {

// strerror() is not thread-safe; GNU strerror_r returns the text, maybe not in `buf`.
std::string error_text(int err) {
  char buf[128];
  return strerror_r(err, buf, sizeof buf);
}

std::string address(const std::string& host, uint16_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

http_server::http_server(std::string host, uint16_t port, metrics_source metrics)
    : host_(std::move(host)), port_(port), metrics_(std::move(metrics)) {}

http_server::~http_server() {
  stop();
}

std::optional<std::string> http_server::start() {
  if (server_ != nullptr) {
    return "the HTTP server on " + address(host_, port_) + " is already started";
  }
  auto server = std::make_unique<httplib::Server>();
  server->new_task_queue = [] { return new httplib::ThreadPool(2); };
  server->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_(), "text/plain; version=0.0.4");
  });
  server->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  errno = 0;
  int bound = -1;
  if (port_ == 0) {
    bound = server->bind_to_any_port(host_);
  } else if (server->bind_to_port(host_, port_)) {
    bound = port_;
  }
  if (bound <= 0) {
    // httplib only says no; errno still holds what bind() or listen() said.
    int err = errno;
    return "cannot listen on " + address(host_, port_) + ": "
           + (err != 0 ? error_text(err) : "bind failed");
  }
  port_ = static_cast<uint16_t>(bound);
  server_ = std::move(server);
  done_ = false;
  thread_ = std::thread{[this] {
    server_->listen_after_bind();
    done_ = true;
  }};
  // httplib's stop() is a no-op until the listen loop marks itself running, so a stop() right
  // after start() would hang in join(). The loop sets that flag first thing: wait for it.
  while (!server_->is_running() && !done_) {
    std::this_thread::yield();
  }
  return std::nullopt;
}

void http_server::stop() {
  if (server_ == nullptr) {
    return;
  }
  server_->stop();
  if (thread_.joinable()) {
    thread_.join();
  }
  server_.reset();
}

}  // namespace tidegate::actors
