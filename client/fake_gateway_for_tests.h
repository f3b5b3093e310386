#pragma once

// Test support only (included by client/*_test.cc): just enough of the gateway's side of
// MMTP — login, pings, SYNC pages — on the test's own event loop, with no threads.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "client/connection.h"
#include "client/event_loop.h"
#include "protocol/frame_decoder.h"
#include "protocol/frame_encoder.h"
#include "tidegate/v1/control.pb.h"
#include "tidegate/v1/error.pb.h"
#include "tidegate/v1/handshake.pb.h"
#include "tidegate/v1/sync.pb.h"

namespace tidegate::client {

/// A socket bound to 127.0.0.1 port 0; listening if `backlog` >= 0.
inline int bound_socket(int backlog, uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  if (backlog >= 0) {
    EXPECT_EQ(::listen(fd, backlog), 0);
  }
  socklen_t len = sizeof(addr);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  port = ntohs(addr.sin_port);
  return fd;
}

inline std::string local(uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

/// The connection settings SDK tests start from: one address, the token fake_gateway accepts,
/// no reconnects, a fixed 30 s heartbeat and a fast backoff.
inline connection_config test_connection_config(std::vector<std::string> addresses) {
  connection_config c;
  c.addresses = std::move(addresses);
  c.device_id = "dev-1";
  c.app_id = "app-1";
  c.token = "good";
  c.reconnect = false;
  c.heartbeat = heartbeat_config::fixed(std::chrono::seconds{30});
  c.backoff.foreground_base = std::chrono::milliseconds{5};
  c.backoff.foreground_cap = std::chrono::milliseconds{20};
  return c;
}

/// The gateway's side of a connection for SDK tests. Answers HELLO with WELCOME, AUTH with
/// AUTH_OK (or ERROR 8007 and a close for another token), PING with PONG (unless told not
/// to), and SYNC_REQ with `answer`'s pages. Records every frame a client sent.
class fake_gateway {
 public:
  explicit fake_gateway(event_loop& loop) : loop_(loop) {
    listen_fd_ = bound_socket(64, port_);
    loop_.add_fd(listen_fd_, EPOLLIN, [this](uint32_t) { accept_one(); });
  }
  ~fake_gateway() {
    close_all();
    loop_.remove_fd(listen_fd_);
    ::close(listen_fd_);
  }

  std::string address() const { return local(port_); }

  /// Frames received from clients, in order.
  std::vector<protocol::frame> received;
  size_t accepted = 0;
  bool answer_pings = true;
  std::string good_token = "good";
  uint32_t accepted_interval_ms = 0;  // 0 = echo the client's
  /// The pages that answer a SYNC_REQ; none if unset.
  std::function<std::vector<v1::SyncData>(const v1::SyncRequest&)> answer;

  /// Sends `times` frames to every client in one write, with the ack flag and the next seqs.
  void send_all(v1::FrameType type, const google::protobuf::MessageLite& message, int times = 1) {
    for (auto& p : peers_) {
      if (p->fd >= 0) {
        send(*p, type, v1::CHANNEL_CONTROL, message, protocol::flag_ack_requested, times);
      }
    }
  }

  /// Sends pages to every client, ack requested, as an online push would.
  void push(const std::vector<v1::SyncData>& pages) {
    for (auto& p : peers_) {
      if (p->fd >= 0) {
        send_pages(*p, pages);
      }
    }
  }

  void close_all() {
    for (auto& p : peers_) {
      close_peer(*p);
    }
  }

  /// The transport acks received, in order.
  std::vector<uint64_t> acks() const {
    std::vector<uint64_t> out;
    for (const auto& m : parsed<v1::Ack>(v1::FRAME_TYPE_ACK)) {
      out.push_back(m.seq());
    }
    return out;
  }

  /// The highest seq the client acked on the transport.
  uint64_t transport_acked() const {
    auto all = acks();
    return all.empty() ? 0 : *std::max_element(all.begin(), all.end());
  }

  size_t count(v1::FrameType type) const {
    return static_cast<size_t>(std::count_if(received.begin(), received.end(),
                                             [type](const auto& f) { return f.type == type; }));
  }

  std::vector<v1::SyncRequest> requests() const {
    return parsed<v1::SyncRequest>(v1::FRAME_TYPE_SYNC_REQ);
  }
  std::vector<v1::SyncAck> sync_acks() const {
    return parsed<v1::SyncAck>(v1::FRAME_TYPE_SYNC_ACK);
  }

 private:
  struct peer {
    int fd = -1;
    protocol::frame_decoder decoder;
    uint64_t seq = 0;
  };

  template <class Message>
  std::vector<Message> parsed(v1::FrameType type) const {
    std::vector<Message> out;
    for (const auto& f : received) {
      if (f.type == type) {
        out.emplace_back();
        EXPECT_TRUE(out.back().ParseFromString(f.payload));
      }
    }
    return out;
  }

  void accept_one() {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      return;
    }
    ++accepted;
    auto p = std::make_unique<peer>();
    p->fd = fd;
    auto* raw = p.get();
    peers_.push_back(std::move(p));
    loop_.add_fd(fd, EPOLLIN, [this, raw](uint32_t) { on_readable(*raw); });
  }

  void on_readable(peer& p) {
    char buf[4096];
    ssize_t n = ::recv(p.fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      close_peer(p);
      return;
    }
    p.decoder.append(buf, static_cast<size_t>(n));
    protocol::frame f;
    while (p.fd >= 0 && p.decoder.next(f) == protocol::frame_decoder::status::frame) {
      received.push_back(f);
      on_frame(p, f);
    }
  }

  void on_frame(peer& p, const protocol::frame& f) {
    if (f.type == v1::FRAME_TYPE_HELLO) {
      v1::Hello hello;
      hello.ParseFromString(f.payload);
      v1::Welcome welcome;
      welcome.set_session_id("s" + std::to_string(peers_.size()));
      welcome.set_heartbeat_interval_ms(accepted_interval_ms != 0 ? accepted_interval_ms
                                                                  : hello.heartbeat_interval_ms());
      send(p, v1::FRAME_TYPE_WELCOME, v1::CHANNEL_CONTROL, welcome, protocol::flag_ack_requested);
    } else if (f.type == v1::FRAME_TYPE_AUTH) {
      v1::Auth auth;
      auth.ParseFromString(f.payload);
      if (auth.token() == good_token) {
        v1::AuthOk ok;
        ok.set_user_id("alice");
        send(p, v1::FRAME_TYPE_AUTH_OK, v1::CHANNEL_CONTROL, ok, protocol::flag_ack_requested);
      } else {
        v1::Error error;
        error.set_code(v1::ERROR_CODE_AUTH_FAILED);
        error.set_reason("bad token");
        send(p, v1::FRAME_TYPE_ERROR, v1::CHANNEL_CONTROL, error, 0);
        close_peer(p);
      }
    } else if (f.type == v1::FRAME_TYPE_PING && answer_pings) {
      v1::Ping ping;
      ping.ParseFromString(f.payload);
      v1::Pong pong;
      pong.set_client_time_ms(ping.client_time_ms());
      pong.set_heartbeat_interval_ms(ping.heartbeat_interval_ms());
      send(p, v1::FRAME_TYPE_PONG, v1::CHANNEL_CONTROL, pong, 0);
    } else if (f.type == v1::FRAME_TYPE_SYNC_REQ && answer) {
      v1::SyncRequest request;
      ASSERT_TRUE(request.ParseFromString(f.payload));
      send_pages(p, answer(request));
    }
  }

  void send_pages(peer& p, const std::vector<v1::SyncData>& pages) {
    for (const auto& data : pages) {
      send(p, v1::FRAME_TYPE_SYNC_DATA, v1::CHANNEL_SYNC, data, protocol::flag_ack_requested);
    }
  }

  void send(peer& p, v1::FrameType type, uint8_t channel,
            const google::protobuf::MessageLite& message, uint8_t flags, int times = 1) {
    std::string out;
    for (int i = 0; i < times; ++i) {
      uint64_t seq = (flags & protocol::flag_ack_requested) != 0 ? ++p.seq : 0;
      encoder_.encode(type, channel, seq, flags, message, out);
    }
    // Loopback and small frames: one non-blocking send takes it all.
    ASSERT_EQ(::send(p.fd, out.data(), out.size(), MSG_NOSIGNAL), static_cast<ssize_t>(out.size()));
  }

  void close_peer(peer& p) {
    if (p.fd >= 0) {
      loop_.remove_fd(p.fd);
      ::close(p.fd);
      p.fd = -1;
    }
  }

  event_loop& loop_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  protocol::frame_encoder encoder_;
  std::vector<std::unique_ptr<peer>> peers_;
};

}  // namespace tidegate::client
