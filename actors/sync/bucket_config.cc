#include "actors/sync/bucket_config.h"

namespace tidegate::actors {

const char* to_string(bucket_kind kind) {
  switch (kind) {
    case bucket_kind::user:
      return "user";
    case bucket_kind::device:
      return "device";
    case bucket_kind::multi_device:
      return "multi_device";
    case bucket_kind::once:
      return "once";
    case bucket_kind::once_device:
      return "once_device";
    case bucket_kind::global:
      return "global";
  }
  return "unknown";
}

std::optional<bucket_kind> bucket_kind_from(const std::string& text) {
  for (auto kind : {bucket_kind::user, bucket_kind::device, bucket_kind::multi_device,
                    bucket_kind::once, bucket_kind::once_device, bucket_kind::global}) {
    if (text == to_string(kind)) {
      return kind;
    }
  }
  return std::nullopt;
}

const bucket_config* sync_config::bucket(const std::string& name) const {
  for (const auto& b : buckets) {
    if (b.name == name) {
      return &b;
    }
  }
  return nullptr;
}

const bucket_config* sync_config::bucket_by_id(uint8_t id) const {
  for (const auto& b : buckets) {
    if (b.id == id) {
      return &b;
    }
  }
  return nullptr;
}

std::string reload_conflict(const sync_config& current, const sync_config& next) {
  if (current.shards != next.shards) {
    return "the number of shards cannot change";
  }
  for (const auto& b : next.buckets) {
    if (next.bucket_by_id(b.id) != &b) {
      return "bucket id " + std::to_string(b.id) + " is used twice";
    }
    if (const auto* old = current.bucket(b.name); old != nullptr) {
      if (old->id != b.id || old->kind != b.kind) {
        return "bucket " + b.name + " must keep its id and kind";
      }
    } else if (const auto* taken = current.bucket_by_id(b.id); taken != nullptr) {
      return "bucket id " + std::to_string(b.id) + " belongs to " + taken->name;
    }
  }
  for (const auto& [business, bucket] : next.businesses) {
    if (next.bucket(bucket) == nullptr) {
      return "business " + business + " maps to unknown bucket " + bucket;
    }
  }
  return {};
}

const bucket_config* sync_config::bucket_of_business(const std::string& business) const {
  auto i = businesses.find(business);
  return i == businesses.end() ? nullptr : bucket(i->second);
}

sync_config default_sync_config() {
  sync_config cfg;
  uint8_t id = 1;
  for (auto kind : {bucket_kind::user, bucket_kind::device, bucket_kind::multi_device,
                    bucket_kind::once, bucket_kind::once_device, bucket_kind::global}) {
    bucket_config b;
    b.name = to_string(kind);
    b.kind = kind;
    b.id = id++;
    b.retention.keep_count = 10'000;
    cfg.buckets.push_back(b);
  }
  cfg.businesses["push"] = "once";
  cfg.businesses["push_device"] = "once_device";
  return cfg;
}

uint16_t shard_of(const std::string& owner, uint16_t shards) {
  uint32_t hash = 2166136261u;
  for (unsigned char c : owner) {
    hash = (hash ^ c) * 16777619u;
  }
  return static_cast<uint16_t>(hash % (shards == 0 ? 1 : shards));
}

}  // namespace tidegate::actors
