#include "client/sync_receiver.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace tidegate::client {

std::string sync_receiver::topic_key(const std::string& topic) {
  return std::string{topic_prefix} + topic;
}

std::optional<std::string> sync_receiver::topic_of(const std::string& key) {
  if (key.compare(0, topic_prefix.size(), topic_prefix) != 0) {
    return std::nullopt;
  }
  return key.substr(topic_prefix.size());
}

sync_receiver::sync_receiver(sync_cursors initial, ops_callback on_ops, reset_callback on_reset,
                             sync_receiver_config config)
    : on_ops_(std::move(on_ops)), on_reset_(std::move(on_reset)), config_(config) {
  config_.max_held_ops = std::max<size_t>(config_.max_held_ops, 1);
  for (const auto& [bucket, version] : initial) {
    buckets_[bucket].cursor = version;
  }
}

v1::SyncRequest sync_receiver::make_request(v1::SyncReason reason) {
  v1::SyncRequest request;
  request.set_reason(reason);
  for (auto& [key, b] : buckets_) {
    if (auto topic = topic_of(key)) {
      auto* cursor = request.add_topics();
      cursor->set_topic(*topic);
      cursor->set_version(b.cursor);
    } else {
      auto* cursor = request.add_cursors();
      cursor->set_bucket(key);
      cursor->set_version(b.cursor);
    }
    b.requested = true;
  }
  return request;
}

void sync_receiver::on_session_end() {
  for (auto& entry : buckets_) {
    entry.second.requested = false;
  }
}

void sync_receiver::mark_dirty(bucket_state& b) {
  if (!b.dirty) {
    b.dirty = true;
    ++dirty_;
  }
}

sync_page_result sync_receiver::on_page(v1::SyncData& page) {
  sync_page_result result;
  ++counters_.pages;
  const std::string name = page.topic().empty() ? page.bucket() : topic_key(page.topic());
  // A bucket the request could not name (new to this client) is answered like a named one;
  // its answer's later pages follow a first one with `more` (pushes never have it).
  bool created = buckets_.count(name) == 0;
  auto& b = buckets_[name];
  if (created && page.more()) {
    b.requested = true;
  }
  bool answer = created || b.requested;
  uint64_t before = b.cursor;
  uint64_t first = page.ops().empty() ? 0 : page.ops(0).version();
  if (page.reset()) {
    result.reset = true;
    ++counters_.resets;
    uint64_t head = page.head_version();
    b.held.erase(b.held.begin(), b.held.upper_bound(head));
    if (on_reset_) {
      on_reset_(name, head);
    }
    // Also when head < cursor (the client was ahead): the server's numbering wins.
    b.cursor = head;
    mark_dirty(b);
  }
  if (page.gone_through() > b.cursor) {
    // Acked and deleted on another device: nothing to deliver here, move over them.
    b.held.erase(b.held.begin(), b.held.upper_bound(page.gone_through()));
    b.cursor = page.gone_through();
    mark_dirty(b);
  }
  // The run after the cursor goes to the app; ops past a gap wait in `held` until it fills.
  std::vector<v1::Op> run;
  auto next = [&] { return b.cursor + 1 + run.size(); };
  for (auto& op : *page.mutable_ops()) {
    uint64_t version = op.version();
    if (version < next() || b.held.count(version) != 0) {
      ++result.duplicates;
    } else if (version == next()) {
      run.push_back(std::move(op));
      while (!b.held.empty() && b.held.begin()->first == next()) {
        run.push_back(std::move(b.held.begin()->second));
        b.held.erase(b.held.begin());
      }
    } else if (b.held.size() < config_.max_held_ops) {
      b.held.emplace(version, std::move(op));
    } else if (version < std::prev(b.held.end())->first) {
      // Full: keep the lowest versions, they go first; the re-sync resends the others.
      b.held.erase(std::prev(b.held.end()));
      b.held.emplace(version, std::move(op));
      ++result.dropped;
    } else {
      ++result.dropped;
    }
  }
  while (!b.held.empty() && b.held.begin()->first == next()) {  // a reset can expose held ops
    run.push_back(std::move(b.held.begin()->second));
    b.held.erase(b.held.begin());
  }
  if (!run.empty()) {
    uint64_t last = run.back().version();
    size_t moved = run.size();
    // Skipped ops hold their place in the order (the cursor moves over them), not the app's.
    run.erase(std::remove_if(run.begin(), run.end(), [](const v1::Op& op) { return op.skipped(); }),
              run.end());
    if (on_ops_ && !run.empty()) {
      on_ops_(name, run);
    }
    // Only now: an app that dies in the callback gets these ops again (not yet persisted).
    b.cursor = last;  // `b` stays valid: map nodes are never erased
    mark_dirty(b);
    result.delivered = run.size();
    result.skipped = moved - run.size();
    unacked_ops_ += moved;
  }
  result.held = b.held.size();
  // The last page of an answer (or an online push that continues the cursor) settles the
  // bucket's request; a push past a gap does not, the answer may still be coming. Only the
  // end of an answer makes an ack due at once: pushes are acked in batches (ack_every_ops, or
  // the owner's ack delay), so a phone receiving a stream sends a few acks a second, not one
  // per op.
  bool continues = page.reset() || page.ops().empty() || first <= before + 1;
  if (!page.more() && continues) {
    if (b.dirty && answer) {
      caught_up_ = true;
    }
    b.requested = false;
  }
  bool gap = !b.held.empty() || result.dropped != 0;
  if (gap && !b.requested) {
    result.resync = true;
    ++counters_.resyncs;
  }
  counters_.delivered += result.delivered;
  counters_.skipped += result.skipped;
  counters_.duplicates += result.duplicates;
  return result;
}

bool sync_receiver::ack_due() const {
  return dirty_ != 0 && (caught_up_ || unacked_ops_ >= config_.ack_every_ops);
}

v1::SyncAck sync_receiver::take_ack() {
  v1::SyncAck ack;
  for (auto& [key, b] : buckets_) {
    if (b.dirty && !topic_of(key)) {  // topic cursors are the client's alone: never acked
      auto* cursor = ack.add_cursors();
      cursor->set_bucket(key);
      cursor->set_version(b.cursor);
    }
    b.dirty = false;
  }
  dirty_ = 0;
  unacked_ops_ = 0;
  caught_up_ = false;
  if (ack.cursors_size() != 0) {
    ++counters_.acks;
  }
  return ack;
}

sync_cursors sync_receiver::cursors() const {
  sync_cursors out;
  for (const auto& [bucket, b] : buckets_) {
    out.emplace(bucket, b.cursor);
  }
  return out;
}

uint64_t sync_receiver::cursor(const std::string& bucket) const {
  auto it = buckets_.find(bucket);
  return it == buckets_.end() ? 0 : it->second.cursor;
}

size_t sync_receiver::held() const {
  size_t n = 0;
  for (const auto& entry : buckets_) {
    n += entry.second.held.size();
  }
  return n;
}

}  // namespace tidegate::client
