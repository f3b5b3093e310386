#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "bench/load/process.h"
#include "bench/load/scratch_dir.h"

namespace tidegate::bench {

/// The peers `tidegate bench sync --peers` and `tidegate bench fanout` measure.
enum class peer_kind : uint8_t {
  nats,          ///< nats-server with JetStream, file storage.
  redis,         ///< redis-server with AOF, appendfsync everysec.
  nats_core,     ///< nats-server without JetStream: core publish/subscribe only.
  mosquitto,     ///< mosquitto (MQTT 3.1.1), anonymous, no persistence.
  redis_pubsub,  ///< redis-server without persistence, for PUBLISH/SUBSCRIBE.
};

/// How a peer is named in reports and which program and Debian package run it.
struct peer_spec {
  const char* name;     ///< Report key: "nats_jetstream", "redis_xadd", "mosquitto".
  const char* title;    ///< For people: "NATS JetStream", "Redis XADD", "Mosquitto".
  const char* program;  ///< "nats-server", "redis-server", "mosquitto".
  const char* package;  ///< The Debian package with the program.
};
const peer_spec& spec_of(peer_kind kind);

/// The absolute path of `program` on PATH or in /usr/sbin, /usr/local/sbin, /sbin (Debian puts
/// nats-server in /usr/sbin, which a user's PATH lacks); "" if it is nowhere.
std::string find_program(const std::string& program);

/// The first line `program --version` prints within 5 s, or "".
std::string program_version(const std::string& program);

/// One peer server as a child process on a free 127.0.0.1 port, its data in a fresh temp dir
/// that goes with this object. The child is SIGKILLed on every exit path: by stop(), by the
/// destructor, and by the kernel if this process dies (process' PR_SET_PDEATHSIG). Not
/// thread-safe; the thread that calls start() must own it until it is destroyed.
class peer_server {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit peer_server(peer_kind kind) : kind_(kind) {}

  /// Starts `program` and waits until it answers (NATS: sends INFO; Redis: answers PING;
  /// Mosquitto: answers an MQTT CONNECT with CONNACK) by `deadline`, trying up to 3 ports in
  /// case another process took the free one first. Returns "" once it answers, else why not
  /// (with the tail of its log).
  std::string start(const std::string& program, time_point deadline);
  uint16_t port() const { return port_; }
  pid_t pid() const { return child_ ? child_->pid() : -1; }
  /// True while the child runs.
  bool running();
  /// SIGTERM, then SIGKILL if it has not exited within 10 s; returns within 20 s.
  void stop();
  /// The last 2 KiB of its log.
  std::string log_tail() const;

 private:
  std::string launch(const std::string& program, time_point deadline);
  bool answers(time_point deadline, std::string& why);

  peer_kind kind_;
  scratch_dir dir_;  // declared before child_: the child is gone before its files are removed
  std::unique_ptr<process> child_;
  uint16_t port_ = 0;
  std::string log_path_;
};

}  // namespace tidegate::bench
