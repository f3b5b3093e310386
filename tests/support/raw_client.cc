#include "tests/support/raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "protocol/auth_token.h"
#include "protocol/frame_encoder.h"
#include "tidegate/v1/control.pb.h"
#include "tidegate/v1/handshake.pb.h"

namespace tidegate::test {

raw_client::raw_client(uint16_t port) : decoder_({size_t{64} << 20}) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

raw_client::~raw_client() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

bool raw_client::send_bytes(const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    auto n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) {
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

bool raw_client::send(v1::FrameType type, const google::protobuf::MessageLite& msg, uint64_t seq) {
  std::string bytes;
  protocol::frame_encoder{}.encode(type, 0, seq, 0, msg, bytes);
  return send_bytes(bytes);
}

bool raw_client::read_some(std::chrono::steady_clock::time_point deadline, bool keep) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) {
    return false;
  }
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
    return true;
  }
  char buf[16384];
  auto n = ::recv(fd_, buf, sizeof(buf), 0);
  if (n <= 0) {
    eof_ = true;
  } else if (keep) {
    decoder_.append(buf, static_cast<size_t>(n));
  }
  return true;
}

std::optional<protocol::frame> raw_client::next(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  protocol::frame f;
  for (;;) {
    auto status = decoder_.next(f);
    if (status == protocol::frame_decoder::status::frame) {
      return f;
    }
    if (status == protocol::frame_decoder::status::error || eof_ || !read_some(deadline, true)) {
      return std::nullopt;
    }
  }
}

bool raw_client::closed_within(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!eof_) {
    if (!read_some(deadline, false)) {
      return false;
    }
  }
  return true;
}

bool raw_client::hello(const std::string& device, const std::string& app, uint32_t heartbeat_ms,
                       v1::AppState state) {
  v1::Hello h;
  h.set_protocol_version(1);
  h.set_app_state(state);
  h.set_device_id(device);
  h.set_app_id(app);
  h.set_heartbeat_interval_ms(heartbeat_ms);
  if (!send(v1::FRAME_TYPE_HELLO, h)) {
    return false;
  }
  auto f = next();
  return f && f->type == v1::FRAME_TYPE_WELCOME && ack(f->seq);
}

bool raw_client::auth(const std::string& token) {
  v1::Auth a;
  a.set_token(token);
  if (!send(v1::FRAME_TYPE_AUTH, a)) {
    return false;
  }
  auto f = next();
  return f && f->type == v1::FRAME_TYPE_AUTH_OK && ack(f->seq);
}

bool raw_client::ack(uint64_t seq) {
  v1::Ack a;
  a.set_seq(seq);
  return send(v1::FRAME_TYPE_ACK, a);
}

void raw_client::shrink_receive_buffer() {
  int small = 1024;
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
}

std::string token_for(const std::string& secret, const std::string& app, const std::string& user) {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto s = std::chrono::duration_cast<std::chrono::seconds>(now).count();
  return protocol::sign_token(secret, app, user, static_cast<uint64_t>(s) + 3600);
}

}  // namespace tidegate::test
