#include "bench/fanout/socket_publisher.h"

#include <poll.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <ctime>
#include <utility>

#include "bench/fanout/fanout_socket.h"

namespace tidegate::bench {
namespace {

using steady = std::chrono::steady_clock;

constexpr size_t read_buffer_bytes = 64 * 1024;
constexpr int reads_per_pump = 16;

class socket_publisher final : public fanout_publisher, private fanout_sink {
 public:
  socket_publisher(uint16_t port, std::unique_ptr<fanout_codec> codec)
      : port_(port), codec_(std::move(codec)) {}

  std::string start(time_point deadline) override {
    fd_ = start_loopback_connect(port_, error_);
    if (fd_.get() < 0) {
      return error_;
    }
    codec_->append_publisher_handshake(out_);
    // Bounded: each pass waits at most until the deadline.
    while (!ready_) {
      if (steady::now() >= deadline) {
        return error_.empty() ? "not ready to publish by the setup deadline" : error_;
      }
      if (!pump(deadline, -1)) {
        return error_;
      }
    }
    return {};
  }

  bool publish(uint64_t seq, std::string_view payload) override {
    if (!error_.empty() && broken_) {
      return false;
    }
    codec_->append_publish(out_, seq, payload);
    return true;
  }

  bool pump(time_point until, int wake_fd) override {
    if (broken_) {
      return false;
    }
    if (!connected_) {
      if (!wait(until, wake_fd, true)) {
        return !broken_;
      }
      if (auto why = connect_error(fd_.get()); !why.empty()) {
        return fail(why);
      }
      connected_ = true;
    }
    if (!out_.empty() && !send_some(fd_.get(), out_, error_)) {
      return fail(error_);
    }
    if (!read()) {
      return false;
    }
    if (!wait(until, wake_fd, !out_.empty())) {
      return !broken_;
    }
    if (!out_.empty() && !send_some(fd_.get(), out_, error_)) {
      return fail(error_);
    }
    return read();
  }

  bool answers_publishes() const override { return codec_->answers_publishes(); }
  uint64_t max_unanswered() const override { return codec_->max_unanswered_publishes(); }
  uint64_t accepted() const override { return accepted_; }
  uint64_t refused() const override { return refused_; }
  std::string error() const override { return error_; }

 private:
  void on_ready() override { ready_ = true; }
  void on_message(uint64_t /*seq*/) override {}  // not subscribed: nothing to count
  void on_publish_reply(bool accepted, std::string_view error) override {
    if (accepted) {
      ++accepted_;
      return;
    }
    ++refused_;
    if (error_.empty()) {
      error_ = "publish refused: " + std::string{error};
    }
  }

  bool fail(std::string why) {
    error_ = std::move(why);
    broken_ = true;
    return false;
  }

  /// Waits until the socket is readable (or writable when `want_write`), `wake_fd` is
  /// readable, or `until`. True if the socket is ready.
  bool wait(time_point until, int wake_fd, bool want_write) {
    std::array<pollfd, 2> fds{};
    fds[0] = {fd_.get(), static_cast<short>(POLLIN | (want_write ? POLLOUT : 0)), 0};
    fds[1] = {wake_fd, POLLIN, 0};
    auto left = std::max(until - steady::now(), steady::duration::zero());
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec timeout{static_cast<time_t>(ns / 1'000'000'000),
                     static_cast<long>(ns % 1'000'000'000)};
    int n = ::ppoll(fds.data(), wake_fd >= 0 ? 2 : 1, &timeout, nullptr);
    if (n < 0 && errno != EINTR) {
      fail(errno_message("ppoll"));
      return false;
    }
    return n > 0 && fds[0].revents != 0;
  }

  /// Reads what is there now and lets the codec take it.
  bool read() {
    std::array<char, read_buffer_bytes> buffer;
    for (int i = 0; i < reads_per_pump; ++i) {
      size_t size = 0;
      auto status = recv_some(fd_.get(), buffer.data(), buffer.size(), size, error_);
      if (status == recv_status::again) {
        return true;
      }
      if (status == recv_status::closed) {
        return fail(error_);
      }
      if (!codec_->consume(std::string_view{buffer.data(), size}, *this, out_)) {
        return fail(codec_->error());
      }
      if (size < buffer.size()) {
        return true;
      }
    }
    return true;
  }

  uint16_t port_;
  std::unique_ptr<fanout_codec> codec_;
  unique_fd fd_;
  std::string out_;
  std::string error_;
  bool connected_ = false;
  bool ready_ = false;
  bool broken_ = false;
  uint64_t accepted_ = 0;
  uint64_t refused_ = 0;
};

}  // namespace

std::unique_ptr<fanout_publisher> make_socket_publisher(uint16_t port,
                                                        std::unique_ptr<fanout_codec> codec) {
  return std::make_unique<socket_publisher>(port, std::move(codec));
}

}  // namespace tidegate::bench
