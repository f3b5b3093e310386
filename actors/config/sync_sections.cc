#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "actors/config/sections.h"

namespace tidegate::actors::config_detail {

void read_storage(checker& c, const toml::table& root, storage_settings& storage) {
  const toml::table* t = c.table(root, "", "storage");
  if (t == nullptr) {
    return;
  }
  const std::string_view p = "storage";
  c.only_keys(*t, p,
              {"data_dir", "map_size_mb", "max_map_size_mb", "durability", "sync_interval_ms"});
  c.string(*t, p, "data_dir", storage.data_dir);
  int64_t map_mb = static_cast<int64_t>(storage.map_size >> 20);
  int64_t max_mb = static_cast<int64_t>(storage.max_map_size >> 20);
  auto* map_node = c.integer(*t, p, "map_size_mb", 1, 1 << 24, map_mb);
  c.integer(*t, p, "max_map_size_mb", 1, 1 << 24, max_mb);
  storage.map_size = static_cast<size_t>(map_mb) << 20;
  storage.max_map_size = static_cast<size_t>(max_mb) << 20;
  if (!c.failed() && storage.map_size > storage.max_map_size && map_node != nullptr) {
    c.fail(*map_node, "storage.map_size_mb", "must not exceed max_map_size_mb");
  }
  std::string mode = storage.fsync ? "fsync" : "periodic";
  if (auto* node = c.string(*t, p, "durability", mode)) {
    if (mode != "fsync" && mode != "periodic") {
      c.fail(*node, "storage.durability", "must be \"fsync\" or \"periodic\", got " + quoted(mode));
    }
  }
  storage.fsync = mode == "fsync";
  c.integer(*t, p, "sync_interval_ms", 1, u32_max, storage.sync_interval_ms);
}

namespace {

bool valid_bucket_name(const std::string& name) {
  if (name.empty() || name.size() > 64) {
    return false;
  }
  for (char ch : name) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) {
      return false;
    }
  }
  return true;
}

// keep_ops and max_age_s of a bucket or of [topics] (0: no limit).
void read_retention(checker& c, const toml::table& t, const std::string& path,
                    storage::retention_policy& retention) {
  int64_t keep = retention.keep_count.value_or(0);
  if (c.integer(t, path, "keep_ops", 0, i64_max, keep)) {
    retention.keep_count = keep == 0 ? std::nullopt : std::optional<uint64_t>(keep);
  }
  int64_t age_s = static_cast<int64_t>(retention.max_age_ms.value_or(0) / 1000);
  if (c.integer(t, path, "max_age_s", 0, i64_max / 1000, age_s)) {
    retention.max_age_ms =
        age_s == 0 ? std::nullopt : std::optional<uint64_t>(static_cast<uint64_t>(age_s) * 1000);
  }
}

// [topics]: the logs of every topic, and the topic actors' limits.
void read_topics(checker& c, const toml::table& root, topic_config& topics) {
  const toml::table* t = c.table(root, "", "topics");
  if (t == nullptr) {
    return;
  }
  const std::string p = "topics";
  c.only_keys(*t, p,
              {"keep_ops", "max_age_s", "cache_messages", "idle_passivate_ms",
               "max_follows_per_user", "fanout_linger_ms", "fanout_linger_followers"});
  read_retention(c, *t, p, topics.retention);
  c.integer(*t, p, "cache_messages", 0, 1'000'000, topics.cache_messages);
  c.integer(*t, p, "idle_passivate_ms", 1, u32_max, topics.idle_passivate_ms);
  c.integer(*t, p, "max_follows_per_user", 1, 1'000'000, topics.max_follows_per_user);
  c.integer(*t, p, "fanout_linger_ms", 0, 1000, topics.fanout_linger_ms);
  c.integer(*t, p, "fanout_linger_followers", 1, u32_max, topics.fanout_linger_followers);
}

// [[buckets]]: new buckets (name, kind, id required) or settings of a default one (its kind
// and id may be restated, never changed).
void read_buckets(checker& c, const toml::table& root, sync_config& sync) {
  const toml::node* node = root.get("buckets");
  if (node == nullptr) {
    return;
  }
  const toml::array* array = node->as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    c.fail(*node, "buckets", "expected an array of tables ([[buckets]])");
    return;
  }
  std::vector<std::string> seen;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::table& t = *array->get(i)->as_table();
    const std::string path = "buckets[" + std::to_string(i) + "]";
    c.only_keys(t, path,
                {"name", "kind", "id", "priority", "keep_ops", "max_age_s", "retry_budget"});
    std::string name;
    auto* name_node = c.string(t, path, "name", name, /*required=*/true);
    if (name_node == nullptr) {
      continue;
    }
    if (!valid_bucket_name(name)) {
      c.fail(*name_node, path + ".name",
             "must be 1 to 64 of a-z, 0-9, '_' and '-', got " + quoted(name));
      continue;
    }
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      c.fail(*name_node, path + ".name", "duplicate bucket " + quoted(name));
      continue;
    }
    seen.push_back(name);
    bucket_config* bucket = nullptr;
    for (auto& b : sync.buckets) {
      if (b.name == name) {
        bucket = &b;
      }
    }
    const bool is_new = bucket == nullptr;
    bucket_config fresh;
    fresh.name = name;
    fresh.retention.keep_count = 10'000;
    bucket_config& b = is_new ? fresh : *bucket;
    std::string kind_text;
    if (auto* kind_node = c.string(t, path, "kind", kind_text, /*required=*/is_new)) {
      auto kind = bucket_kind_from(kind_text);
      if (!kind) {
        c.fail(*kind_node, path + ".kind",
               "must be one of user, device, multi_device, once, once_device, global, got "
                   + quoted(kind_text));
      } else if (!is_new && *kind != b.kind) {
        c.fail(*kind_node, path + ".kind",
               "the default bucket " + quoted(name) + " has kind " + quoted(to_string(b.kind)));
      } else {
        b.kind = *kind;
      }
    }
    int64_t id = b.id;
    if (auto* id_node = c.integer(t, path, "id", 1, 254, id)) {  // 255: the topics' logs
      if (!is_new && id != b.id) {
        c.fail(*id_node, path + ".id",
               "the default bucket " + quoted(name) + " has id " + std::to_string(b.id));
      } else if (is_new && sync.bucket_by_id(static_cast<uint8_t>(id)) != nullptr) {
        c.fail(*id_node, path + ".id",
               "id " + std::to_string(id) + " belongs to bucket "
                   + quoted(sync.bucket_by_id(static_cast<uint8_t>(id))->name));
      }
    } else if (is_new && !c.failed()) {
      c.fail(t, path + ".id", "missing required key (a new bucket needs a stable id, 1-254)");
    }
    b.id = static_cast<uint8_t>(id);
    c.integer(t, path, "priority", 0, 1000, b.priority);
    read_retention(c, t, path, b.retention);
    c.integer(t, path, "retry_budget", 1, 1000, b.retry_budget);
    if (is_new && !c.failed()) {
      sync.buckets.push_back(std::move(fresh));
    }
  }
}

}  // namespace

void read_sync(checker& c, const toml::table& root, sync_config& sync) {
  if (const toml::table* t = c.table(root, "", "sync")) {
    const std::string_view p = "sync";
    c.only_keys(*t, p,
                {"max_payload_bytes", "page_max_ops", "page_max_bytes", "dedupe_ttl_ms",
                 "dead_letter_ttl_ms"});
    c.integer(*t, p, "max_payload_bytes", 1, 16 * mib, sync.max_payload_bytes);
    c.integer(*t, p, "page_max_ops", 1, 10'000, sync.page_max_ops);
    c.integer(*t, p, "page_max_bytes", kib, 16 * mib, sync.page_max_bytes);
    c.integer(*t, p, "dedupe_ttl_ms", 1, i64_max, sync.dedupe_ttl_ms);
    c.integer(*t, p, "dead_letter_ttl_ms", 1, i64_max, sync.dead_letter_ttl_ms);
  }
  read_buckets(c, root, sync);
  read_topics(c, root, sync.topics);
  const toml::node* node = root.get("businesses");
  if (node == nullptr) {
    return;
  }
  const toml::array* array = node->as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    c.fail(*node, "businesses", "expected an array of tables ([[businesses]])");
    return;
  }
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::table& b = *array->get(i)->as_table();
    const std::string path = "businesses[" + std::to_string(i) + "]";
    c.only_keys(b, path, {"name", "bucket"});
    std::string name;
    std::string bucket;
    auto* name_node = c.string(b, path, "name", name, /*required=*/true);
    auto* bucket_node = c.string(b, path, "bucket", bucket, /*required=*/true);
    if (name_node == nullptr || bucket_node == nullptr) {
      continue;
    }
    if (name.empty() || name.size() > 160) {
      c.fail(*name_node, path + ".name", "must be 1 to 160 bytes");
    } else if (sync.bucket(bucket) == nullptr) {
      std::string known;
      for (const auto& cfg : sync.buckets) {
        known += (known.empty() ? "" : ", ") + cfg.name;
      }
      c.fail(*bucket_node, path + ".bucket",
             "unknown bucket " + quoted(bucket) + " (known: " + known + ")");
    } else if (!sync.businesses.emplace(name, bucket).second) {
      c.fail(*name_node, path + ".name", "duplicate business " + quoted(name));
    }
  }
}

}  // namespace tidegate::actors::config_detail
