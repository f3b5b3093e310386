#include "actors/sync/delivery_tracker.h"

#include <algorithm>
#include <iostream>

namespace tidegate::actors {

using storage::delivery_table;
using storage::device_cursor;

device_cursor delivery_tracker::load(const std::string& key, const std::string& owner,
                                     const std::string& device) const {
  if (auto i = pending_.find(key); i != pending_.end()) {
    return i->second.cursor;
  }
  auto stored = reads_.cursor(shard_, bucket_->id, owner, device);
  if (!stored) {
    // Unreadable: start from nothing. At worst a retry is counted late; never a lost op.
    std::cerr << "tidegate: " << bucket_->name << ": cursor of " << owner << "/" << device << ": "
              << stored.error().detail << "\n";
    return {};
  }
  return stored->value_or(device_cursor{});
}

void delivery_tracker::store(const std::string& key, const device_cursor& c,
                             storage::write_batch& out) {
  auto& p = pending_[key];
  p.cursor = c;
  ++p.writes;
  out.puts.push_back({delivery_table::cursors, key, storage::encode_cursor(c)});
}

std::vector<std::string> delivery_tracker::cursor_keys(const storage::write_batch& batch) {
  std::vector<std::string> keys;
  for (const auto& put : batch.puts) {
    if (put.table == delivery_table::cursors) {
      keys.push_back(put.key);
    }
  }
  return keys;
}

void delivery_tracker::settled(const std::vector<std::string>& cursor_keys) {
  for (const auto& key : cursor_keys) {
    auto i = pending_.find(key);
    if (i != pending_.end() && --i->second.writes == 0) {
      pending_.erase(i);
    }
  }
}

uint64_t delivery_tracker::on_page(const std::string& owner, const std::string& device,
                                   uint64_t after, bool first,
                                   const std::vector<storage::oplog_record>& records,
                                   uint64_t now_ms, storage::write_batch& out) {
  auto key = storage::encode_cursor_key(shard_, bucket_->id, owner, device);
  auto c = load(key, owner, device);
  auto before = c;
  if (first) {
    c.acked = std::max(c.acked, after);
    if (after >= c.acked && c.delivered_through > c.acked && c.dead_through < c.delivered_through
        && !records.empty()) {
      // Ops sent before are still unacked: this sync retries them.
      if (++c.attempts > bucket_->retry_budget) {
        dead_letter(owner, device, c, now_ms, out);
        c.dead_through = c.delivered_through;
        c.attempts = 0;
      }
    } else if (c.delivered_through <= c.acked) {
      c.attempts = 0;
    }
  }
  if (!records.empty()) {
    uint64_t last = records.back().version;
    if (last > c.delivered_through) {
      if (keeps_receipts()) {
        std::vector<uint64_t> versions;
        for (const auto& r : records) {
          versions.push_back(r.version);
        }
        delivered(owner, device, c.delivered_through + 1, last, &versions, now_ms, out);
      }
      c.delivered_through = last;
    }
  }
  if (!(c == before)) {
    c.updated_at_ms = now_ms;
    store(key, c, out);
  }
  return c.dead_through > after ? c.dead_through : 0;
}

void delivery_tracker::on_pushed(const std::string& owner, const std::string& device,
                                 uint64_t first, uint64_t last, uint64_t now_ms,
                                 storage::write_batch& out) {
  auto key = storage::encode_cursor_key(shard_, bucket_->id, owner, device);
  auto c = load(key, owner, device);
  if (last <= c.delivered_through) {
    return;
  }
  if (keeps_receipts()) {
    delivered(owner, device, std::max(first, c.delivered_through + 1), last, nullptr, now_ms, out);
  }
  c.delivered_through = last;
  c.updated_at_ms = now_ms;
  store(key, c, out);
}

void delivery_tracker::on_acked(const std::string& owner, const std::string& device,
                                uint64_t version, const std::vector<uint64_t>& acked_ops,
                                uint64_t now_ms, storage::write_batch& out) {
  auto key = storage::encode_cursor_key(shard_, bucket_->id, owner, device);
  auto c = load(key, owner, device);
  if (version <= c.acked) {
    return;
  }
  if (keeps_receipts()) {
    for (auto v : acked_ops) {
      if (v <= c.acked || v > version) {
        continue;
      }
      storage::receipt r;
      auto stored = reads_.receipt_of(shard_, bucket_->id, owner, v, device);
      if (stored && *stored) {
        r = **stored;
      }
      if (r.acked_at_ms != 0) {
        continue;
      }
      // An ack proves delivery: a delivery not recorded yet (or still being written) dates
      // from the ack.
      r.delivered_at_ms = r.delivered_at_ms != 0 ? r.delivered_at_ms : now_ms;
      r.acked_at_ms = now_ms;
      out.puts.push_back({delivery_table::receipts,
                          storage::encode_receipt_key(shard_, bucket_->id, owner, v, device),
                          storage::encode_receipt(r)});
    }
  }
  c.acked = version;
  c.delivered_through = std::max(c.delivered_through, version);
  if (c.acked >= c.delivered_through) {
    c.attempts = 0;
  }
  c.updated_at_ms = now_ms;
  store(key, c, out);
}

void delivery_tracker::delivered(const std::string& owner, const std::string& device, uint64_t from,
                                 uint64_t to, const std::vector<uint64_t>* versions,
                                 uint64_t now_ms, storage::write_batch& out) {
  auto put = [&](uint64_t v) {
    out.puts.push_back({delivery_table::receipts,
                        storage::encode_receipt_key(shard_, bucket_->id, owner, v, device),
                        storage::encode_receipt({now_ms, 0})});
  };
  if (versions != nullptr) {
    for (auto v : *versions) {
      if (v >= from && v <= to) {
        put(v);
      }
    }
    return;
  }
  for (uint64_t v = from; v <= to && v - from < 10'000; ++v) {
    put(v);
  }
}

void delivery_tracker::dead_letter(const std::string& owner, const std::string& device,
                                   const device_cursor& c, uint64_t now_ms,
                                   storage::write_batch& out) {
  // The ops sent and never acked that are not dead yet: (max(acked, dead_through),
  // delivered_through], from storage (some may be gone: trimmed, expired or deleted; those
  // need no dead letter).
  auto from = std::max(c.acked, c.dead_through);
  auto count = c.delivered_through - from;
  auto page =
      log_.read_range(shard_, bucket_->id, owner, from,
                      static_cast<size_t>(std::min<uint64_t>(count, 10'000)), size_t{64} << 20);
  if (!page) {
    std::cerr << "tidegate: " << bucket_->name << ": dead letters of " << owner << "/" << device
              << ": " << page.error().detail << "\n";
    return;
  }
  for (const auto& r : page->records) {
    if (r.version > c.delivered_through) {
      break;
    }
    storage::dead_letter d;
    d.business = r.business;
    d.dead_at_ms = now_ms;
    d.bucket = bucket_->id;
    d.owner = owner;
    d.version = r.version;
    d.device = device;
    d.msg_id = r.msg_id;
    d.attempts = c.attempts;
    d.created_at_ms = r.created_at_ms;
    d.payload = r.payload;
    out.puts.push_back({delivery_table::dead_letters, storage::encode_dead_letter_key(d),
                        storage::encode_dead_letter_value(d)});
  }
}

}  // namespace tidegate::actors
