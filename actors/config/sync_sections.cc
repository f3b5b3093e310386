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

void read_sync(checker& c, const toml::table& root, sync_config& sync) {
  if (const toml::table* t = c.table(root, "", "sync")) {
    const std::string_view p = "sync";
    c.only_keys(*t, p, {"max_payload_bytes", "page_max_ops", "page_max_bytes", "dedupe_ttl_ms"});
    c.integer(*t, p, "max_payload_bytes", 1, 16 * mib, sync.max_payload_bytes);
    c.integer(*t, p, "page_max_ops", 1, 10'000, sync.page_max_ops);
    c.integer(*t, p, "page_max_bytes", kib, 16 * mib, sync.page_max_bytes);
    c.integer(*t, p, "dedupe_ttl_ms", 1, i64_max, sync.dedupe_ttl_ms);
  }
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
