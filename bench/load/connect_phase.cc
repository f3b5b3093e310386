#include "bench/load/connect_phase.h"

#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "bench/load/connect_dataset.h"
#include "client/connection.h"
#include "client/event_loop.h"
#include "protocol/auth_token.h"
#include "tidegate/v1/sync.pb.h"

namespace tidegate::bench {
namespace {

using std::chrono::milliseconds;

struct client_slot {
  std::unique_ptr<client::connection> conn;
  std::unordered_set<std::string> finals;  // buckets whose final page arrived
  bool finished = false;                   // done: stop() is scheduled or ran
};

}  // namespace

connect_phase::connect_phase(connect_phase_options opts)
    : opts_(std::move(opts)), keys_(opts_.clients) {}

connect_round_result connect_phase::run_round() {
  const auto& opts = opts_;
  connect_round_result result;
  client::event_loop loop;
  const auto n = opts.clients;
  std::vector<client_slot> slots(n);
  for (auto& key : keys_) {
    client::sync_cursors kept;
    for (const auto& [bucket, version] : key.cursors()) {
      if (opts.kept_buckets.count(bucket) != 0) {
        kept.emplace(bucket, version);
      }
    }
    key.save(kept);  // in memory: only replaces the cursors
  }
  uint32_t started = 0;
  uint32_t active = 0;
  uint32_t completed = 0;
  auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  auto expires = static_cast<uint64_t>(now_s) + 86'400;

  // Runs from a timer, not from the connection's own callback: the frame that made the client
  // done is handled (and its SYNC_ACK sent) before the close.
  auto finish = [&](uint32_t i) {
    slots[i].finished = true;
    loop.add_timer(milliseconds{0}, [&slots, i] {
      if (slots[i].conn->state() != client::connection_state::closed) {
        slots[i].conn->stop();  // its `closed` callback counts the client done
      }
    });
  };
  auto start = [&](uint32_t i) {
    client::connection_config config;
    config.addresses = {opts.address};
    config.device_id = device_of(i);
    config.app_id = opts.app_id;
    config.os = "bench";
    config.token = protocol::sign_token(opts.secret, opts.app_id, user_of(i), expires);
    config.heartbeat = client::heartbeat_config::fixed(milliseconds{120'000});
    config.reconnect = false;
    config.connect_timeout = opts.timeout;
    config.handshake_timeout = opts.timeout;
    config.seed = i + 1;
    if (opts.address.rfind("127.", 0) == 0) {
      config.source_address = "127.0.0." + std::to_string(2 + i % 16);  // see connections_worker
    }
    config.sync.enabled = opts.sync;
    config.sync.store = &keys_[i];
    auto& slot = slots[i];
    slot.conn = std::make_unique<client::connection>(loop, std::move(config));
    slot.conn->on_frame([&, i](const protocol::frame& frame) {
      if (frame.type != v1::FRAME_TYPE_SYNC_DATA) {
        return;
      }
      ++result.sync_data_frames;
      v1::SyncData page;
      if (!page.ParseFromString(frame.payload)) {
        return;  // the connection closes with protocol_error, counted as failed
      }
      result.ops += static_cast<uint64_t>(page.ops_size());
      if (page.more()) {
        return;
      }
      ++result.final_pages;
      auto& s = slots[i];
      s.finals.insert(page.bucket());
      if (!s.finished && s.finals.size() >= opts.buckets) {
        finish(i);
      }
    });
    slot.conn->on_state([&, i](client::connection_state state, const client::close_info& info) {
      auto& s = slots[i];
      if (state == client::connection_state::ready && !opts.sync && !s.finished) {
        finish(i);
      } else if (state == client::connection_state::closed) {
        if (s.finished) {
          ++result.done;
        } else {
          ++result.failed;
          if (result.first_error.empty()) {
            result.first_error = std::string{client::to_string(info.reason)} + ": " + info.message;
          }
        }
        s.finals.clear();
        --active;
        ++completed;
      }
    });
    ++active;
    slot.conn->start();
  };

  auto t0 = loop.now();
  std::function<void()> tick = [&] {
    while (started < n && active < opts.in_flight) {
      start(started++);
    }
    if (started < n) {
      loop.add_timer(milliseconds{1}, tick);
    }
  };
  tick();
  loop.run_until([&] { return completed == n; }, t0 + opts.timeout);
  result.seconds = std::chrono::duration<double>(loop.now() - t0).count();
  for (const auto& s : slots) {
    if (!s.conn) {
      continue;
    }
    result.sync_requests += s.conn->counters().sync_requests;
    if (const auto* sync = s.conn->sync()) {
      result.resets += sync->counters().resets;
    }
  }
  result.failed += n - completed;  // never started, or not done by the timeout
  if (completed < n && result.first_error.empty()) {
    result.first_error = std::to_string(n - completed) + " clients not done in time";
  }
  slots.clear();  // closes every socket before the loop goes
  return result;
}

}  // namespace tidegate::bench
