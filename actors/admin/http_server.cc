#include "actors/admin/http_server.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <regex>
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

// httplib matches routes as regular expressions; ours are exact paths ("/v1/sync/ops:batch").
std::string exact_pattern(const std::string& path) {
  static const std::regex special{R"([.^$|()\[\]{}*+?\\])"};
  return std::regex_replace(path, special, R"(\$&)");
}

http_request to_request(const httplib::Request& req) {
  http_request out;
  out.method = req.method;
  out.path = req.path;
  out.target = req.target;
  out.body = req.body;
  out.remote_addr = req.remote_addr;
  out.params.assign(req.params.begin(), req.params.end());
  out.headers.reserve(req.headers.size());
  for (const auto& [name, value] : req.headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.headers.emplace_back(std::move(lower), value);
  }
  return out;
}

void apply(const http_reply& reply, httplib::Response& res) {
  res.status = reply.status;
  res.set_content(reply.body, reply.content_type.c_str());
}

}  // namespace

const std::string* http_request::header(const std::string& lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) {
      return &value;
    }
  }
  return nullptr;
}

void http_server::handle(std::string method, std::string path, handler h) {
  routes_.push_back(route{std::move(method), std::move(path), std::move(h)});
}

void http_server::set_error_renderer(error_renderer render) {
  render_error_ = std::move(render);
}

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
  server->new_task_queue = [threads = worker_threads_] { return new httplib::ThreadPool(threads); };
  // Replies are written in more than one send(): without TCP_NODELAY, Nagle plus the client's
  // delayed ACK stalls every reply on a kept-alive connection by tens of milliseconds.
  server->set_tcp_nodelay(true);
  if (max_body_bytes_ > 0) {
    server->set_payload_max_length(max_body_bytes_);
  }
  server->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_(), "text/plain; version=0.0.4");
  });
  server->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  for (const auto& r : routes_) {
    auto serve = [h = r.h](const httplib::Request& req, httplib::Response& res) {
      apply(h(to_request(req)), res);
    };
    if (r.method == "GET") {
      server->Get(exact_pattern(r.path), serve);
    } else if (r.method == "POST") {
      server->Post(exact_pattern(r.path), serve);
    } else if (r.method == "PUT") {
      server->Put(exact_pattern(r.path), serve);
    } else if (r.method == "DELETE") {
      server->Delete(exact_pattern(r.path), serve);
    } else {
      return "the HTTP server cannot route method " + r.method + " (" + r.path + ")";
    }
  }
  if (render_error_) {
    // httplib calls this for every status >= 400, ours included: only fill empty bodies.
    server->set_error_handler(httplib::Server::HandlerWithResponse{
        [render = render_error_](const httplib::Request& req, httplib::Response& res) {
          if (!res.body.empty()) {
            return httplib::Server::HandlerResponse::Unhandled;
          }
          auto reply = render(res.status, to_request(req));
          if (!reply) {
            return httplib::Server::HandlerResponse::Unhandled;
          }
          apply(*reply, res);
          return httplib::Server::HandlerResponse::Handled;
        }});
  }
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
