#include "actors/gateway/topic_streams.h"

#include <algorithm>

#include "actors/gateway/read_retry.h"

namespace tidegate::actors {

void topic_streams::on_follows(const followed_topics& topics, topic_output& out) {
  follows_known_ = true;
  for (const auto& [topic, since] : topics) {
    auto& s = streams_[topic];
    s.since = since;
  }
  if (synced_) {
    for (auto& [topic, s] : streams_) {
      auto c = cursors_.find(topic);
      start(topic, s, c == cursors_.end() ? 0 : c->second, out);
    }
  }
}

void topic_streams::on_sync_request(std::unordered_map<std::string, uint64_t> cursors,
                                    topic_output& out) {
  synced_ = true;
  cursors_ = std::move(cursors);
  if (!follows_known_) {
    return;  // started by on_follows
  }
  for (auto& [topic, s] : streams_) {
    auto c = cursors_.find(topic);
    start(topic, s, c == cursors_.end() ? 0 : c->second, out);
  }
}

void topic_streams::on_followed(const std::string& topic, uint64_t since, topic_output& out) {
  auto [i, fresh] = streams_.try_emplace(topic);
  if (!fresh) {
    return;
  }
  i->second.since = since;
  if (ready()) {
    start(topic, i->second, 0, out);  // announces the follow to the client
  }
}

void topic_streams::on_unfollowed(const std::string& topic) {
  streams_.erase(topic);
}

void topic_streams::start(const std::string& topic, stream& s, uint64_t cursor, topic_output& out) {
  ++s.epoch;
  s.started = true;
  s.stalled = false;
  s.announce = cursor < s.since;
  s.delivered = std::max(cursor, s.since);
  fetch(topic, s, out);
}

void topic_streams::fetch(const std::string& topic, stream& s, topic_output& out) {
  if (s.fetching) {
    return;  // its answer fetches again if the epoch moved or more is there
  }
  if (out.backlog_full()) {
    s.stalled = true;
    stalled_ = true;
    return;
  }
  s.fetching = true;
  out.fetch_topic({topic, s.delivered, s.epoch});
}

void topic_streams::send(const std::string& topic, stream& s, const storage::oplog_record* first,
                         size_t count, uint64_t head, bool more, topic_output& out,
                         const topic_batch* whole) {
  topic_frame f;
  f.topic = &topic;
  f.first = first;
  f.count = count;
  f.head = std::max(head, count > 0 ? first[count - 1].version : 0);
  f.more = more;
  if (s.announce) {
    f.gone_through = s.since;
    s.announce = false;
  } else {
    f.whole = whole;  // the shared encoding has no gone_through
  }
  if (count > 0) {
    s.delivered = first[count - 1].version;
  }
  out.send_topic(f);
}

void topic_streams::on_batch(const topic_batch& batch, topic_output& out) {
  auto i = streams_.find(batch.topic);
  if (i == streams_.end() || batch.records.empty()) {
    return;
  }
  auto& s = i->second;
  s.seen_head = std::max(s.seen_head, batch.head);
  if (!s.started || s.fetching || s.stalled || batch.head <= s.delivered) {
    return;  // a fetch (now or after resume()) reads these from the log
  }
  auto first = batch.records.front().version;
  if (first > s.delivered + 1) {
    fetch(batch.topic, s, out);  // a gap: what was dropped is read from the log
    return;
  }
  if (out.backlog_full()) {
    s.stalled = true;
    stalled_ = true;
    return;
  }
  size_t skip = s.delivered + 1 - first;
  send(batch.topic, s, batch.records.data() + skip, batch.records.size() - skip, batch.head, false,
       out, skip == 0 ? &batch : nullptr);
}

void topic_streams::on_fetched(const topic_fetch& asked, const sync_page& page, topic_output& out) {
  auto i = streams_.find(asked.topic);
  if (i == streams_.end()) {
    return;  // unfollowed meanwhile
  }
  auto& s = i->second;
  s.fetching = false;
  s.failures = 0;
  s.seen_head = std::max(s.seen_head, page.head);
  if (asked.epoch != s.epoch) {
    fetch(asked.topic, s, out);  // restarted meanwhile: read from the new position
    return;
  }
  if (page.reset) {
    // Older than the retained history: the client drops its state for the topic and goes
    // on from the head.
    topic_frame f;
    f.topic = &asked.topic;
    f.head = page.head;
    f.reset = true;
    s.announce = false;
    s.delivered = page.head;
    out.send_topic(f);
    return;
  }
  // Records at or below what was sent since the fetch went out are dropped.
  auto skip = std::find_if(page.records.begin(), page.records.end(),
                           [&](const auto& r) { return r.version > s.delivered; });
  size_t count = static_cast<size_t>(page.records.end() - skip);
  if (count > 0 || s.announce) {
    send(asked.topic, s, count > 0 ? &*skip : nullptr, count, page.head, page.more, out);
  }
  if ((page.more && count > 0) || s.seen_head > s.delivered) {
    fetch(asked.topic, s, out);
  }
}

void topic_streams::on_fetch_failed(const topic_fetch& asked, uint64_t now_ms) {
  auto i = streams_.find(asked.topic);
  if (i == streams_.end()) {
    return;
  }
  auto& s = i->second;
  s.fetching = false;
  s.stalled = true;
  stalled_ = true;
  retry_at_ = std::min(retry_at_, now_ms + read_retry_delay_ms(++s.failures));
}

void topic_streams::retry_due(uint64_t now_ms, topic_output& out) {
  if (retry_at_ > now_ms) {
    return;
  }
  retry_at_ = UINT64_MAX;
  resume_stalled(out);  // with a full backlog the client's next ack resumes them instead
}

bool topic_streams::on_notice(const std::string& topic, uint64_t head) {
  auto i = streams_.find(topic);
  if (i == streams_.end()) {
    return false;
  }
  i->second.seen_head = std::max(i->second.seen_head, head);
  return head > i->second.delivered;
}

void topic_streams::on_head(const std::string& topic, uint64_t head, topic_output& out) {
  auto i = streams_.find(topic);
  if (i == streams_.end()) {
    return;
  }
  auto& s = i->second;
  s.seen_head = std::max(s.seen_head, head);
  if (s.started && !s.fetching && head > s.delivered) {
    s.stalled = false;  // a fetch that failed with the old primary stalled it: read on now
    fetch(topic, s, out);
  }
}

void topic_streams::resume_stalled(topic_output& out) {
  if (!stalled_ || out.backlog_full()) {
    return;
  }
  stalled_ = false;
  for (auto& [topic, s] : streams_) {
    if (s.stalled && !s.fetching) {
      s.stalled = false;
      fetch(topic, s, out);
    }
  }
}

void topic_streams::catch_up(topic_output& out) {
  if (!ready()) {
    return;
  }
  stalled_ = false;
  for (auto& [topic, s] : streams_) {
    if (s.started && !s.fetching && (s.stalled || s.seen_head > s.delivered)) {
      s.stalled = false;
      fetch(topic, s, out);
    }
  }
}

uint64_t topic_streams::delivered(const std::string& topic) const {
  auto i = streams_.find(topic);
  return i == streams_.end() ? 0 : i->second.delivered;
}

}  // namespace tidegate::actors
