#include <caf/actor_system_config.hpp>

#include "actors/sync/sync_messages.h"

namespace tidegate::actors {

void add_sync_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<storage::op_filters>("tidegate::storage::op_filters");
  cfg.add_message_type<storage::push_display>("tidegate::storage::push_display");
  cfg.add_message_type<storage::oplog_record>("tidegate::storage::oplog_record");
  cfg.add_message_type<storage::device_cursor>("tidegate::storage::device_cursor");
  cfg.add_message_type<storage::receipt>("tidegate::storage::receipt");
  cfg.add_message_type<storage::write_batch>("tidegate::storage::write_batch");
  cfg.add_message_type<publish_request>("tidegate::actors::publish_request");
  cfg.add_message_type<publish_result>("tidegate::actors::publish_result");
  cfg.add_message_type<publish_batch>("tidegate::actors::publish_batch");
  cfg.add_message_type<publish_outcome>("tidegate::actors::publish_outcome");
  cfg.add_message_type<publish_outcomes>("tidegate::actors::publish_outcomes");
  cfg.add_message_type<sync_page>("tidegate::actors::sync_page");
  cfg.add_message_type<device_cursor_info>("tidegate::actors::device_cursor_info");
  cfg.add_message_type<owner_cursors>("tidegate::actors::owner_cursors");
  cfg.add_message_type<op_receipts>("tidegate::actors::op_receipts");
  cfg.add_message_type<replica_gap>("tidegate::actors::replica_gap");
  cfg.add_message_type<replica_reply>("tidegate::actors::replica_reply");
  cfg.add_message_type<owner_heads>("tidegate::actors::owner_heads");
  cfg.add_message_type<owner_delivery>("tidegate::actors::owner_delivery");
  cfg.add_message_type<owner_deliveries>("tidegate::actors::owner_deliveries");
  cfg.add_message_type<owner_prev>("tidegate::actors::owner_prev");
  cfg.add_message_type<replica_item>("tidegate::actors::replica_item");
  cfg.add_message_type<replica_stream>("tidegate::actors::replica_stream");
  cfg.add_message_type<replica_outcome>("tidegate::actors::replica_outcome");
  cfg.add_message_type<replica_outcomes>("tidegate::actors::replica_outcomes");
}

}  // namespace tidegate::actors
