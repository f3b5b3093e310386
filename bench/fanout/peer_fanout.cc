#include "bench/fanout/peer_fanout.h"

#include <array>
#include <chrono>
#include <memory>
#include <string>

#include "bench/fanout/mqtt_codec.h"
#include "bench/fanout/nats_core_codec.h"
#include "bench/fanout/redis_pubsub_codec.h"
#include "bench/fanout/socket_publisher.h"
#include "bench/peers/peer_server.h"

namespace tidegate::bench {
namespace {

using steady = std::chrono::steady_clock;

constexpr auto start_timeout = std::chrono::seconds{30};

struct peer_entry {
  fanout_peer peer;
  std::string_view name;
  peer_kind kind;
};

constexpr std::array<peer_entry, 4> peers{{
    {fanout_peer::nats_core, "nats_core", peer_kind::nats_core},
    {fanout_peer::mosquitto_qos0, "mosquitto_qos0", peer_kind::mosquitto},
    {fanout_peer::mosquitto_qos1, "mosquitto_qos1", peer_kind::mosquitto},
    {fanout_peer::redis_pubsub, "redis_pubsub", peer_kind::redis_pubsub},
}};

const peer_entry& entry_of(fanout_peer peer) {
  for (const auto& e : peers) {
    if (e.peer == peer) {
      return e;
    }
  }
  return peers[0];  // not reached: the table names every peer
}

fanout_codec_factory codec_factory(fanout_peer peer) {
  switch (peer) {
    case fanout_peer::nats_core:
      return [](uint32_t) { return make_nats_core_codec("bench.fanout"); };
    case fanout_peer::mosquitto_qos0:
      return [](uint32_t index) { return make_mqtt_codec("bench/fanout", 0, index); };
    case fanout_peer::mosquitto_qos1:
      return [](uint32_t index) { return make_mqtt_codec("bench/fanout", 1, index); };
    case fanout_peer::redis_pubsub:
      return [](uint32_t) { return make_redis_pubsub_codec("bench:fanout"); };
  }
  return {};
}

}  // namespace

std::string_view fanout_peer_name(fanout_peer peer) {
  return entry_of(peer).name;
}

std::optional<fanout_peer> fanout_peer_from_name(std::string_view name) {
  for (const auto& e : peers) {
    if (e.name == name) {
      return e.peer;
    }
  }
  return std::nullopt;
}

fanout_result run_peer_fanout(fanout_peer peer, const fanout_options& options) {
  const auto& entry = entry_of(peer);
  const auto& spec = spec_of(entry.kind);
  fanout_result r;
  r.system = std::string{entry.name};
  r.options = options;
  if (auto why = check_fanout_options(options); !why.empty()) {
    r.first_error = why;
    return r;
  }
  auto program = find_program(spec.program);
  if (program.empty()) {
    r.skipped = std::string{spec.program} + " is not installed: apt-get install -y " + spec.package;
    return r;
  }
  r.version = program_version(program);
  peer_server server{entry.kind};
  if (auto why = server.start(program, steady::now() + start_timeout); !why.empty()) {
    r.first_error = why;
    return r;
  }
  auto make_codec = codec_factory(peer);
  auto publisher = make_socket_publisher(server.port(), make_codec(options.subscribers));
  auto version = r.version;
  r = run_fanout({server.port(), make_codec, {server.pid()}}, *publisher, options);
  r.system = std::string{entry.name};
  r.version = version;
  if (!server.running() && r.first_error.empty()) {
    r.first_error =
        std::string{spec.program} + " exited during the run; its log:\n" + server.log_tail();
  }
  server.stop();
  return r;
}

}  // namespace tidegate::bench
