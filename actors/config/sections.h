#pragma once

#include <toml++/toml.h>

#include "actors/config/node_config.h"
#include "actors/config/toml_checker.h"

namespace tidegate::actors::config_detail {

/// [storage]: data_dir, map_size_mb, max_map_size_mb, durability, sync_interval_ms.
void read_storage(checker& c, const toml::table& root, storage_settings& storage);

/// [sync] limits, [[buckets]] (new buckets, or the priority, retention and retry budget of a
/// default one) and [[businesses]] (name -> bucket) on top of the default buckets.
void read_sync(checker& c, const toml::table& root, sync_config& sync);

/// [cluster]: listen, advertise, seeds, zone, heartbeat_ms, failure_timeout_ms, redial_ms,
/// max_moving_shards, handoff_timeout_ms,
/// and [[cluster.zone_rules]] over `shards` virtual shards. A member needs storage.data_dir.
void read_cluster(checker& c, const toml::table& root, uint32_t shards, cluster_config& cluster);

}  // namespace tidegate::actors::config_detail
