#include "actors/topics/topic_messages.h"

#include <caf/actor_system_config.hpp>

#include "storage/keys.h"

namespace tidegate::actors {

bool is_topic_name(const std::string& name) {
  if (name.empty() || name.size() > storage::max_key_field_size) {
    return false;
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
              || c == '_' || c == '.' || c == ':';
    if (!ok) {
      return false;
    }
  }
  return true;
}

void add_topic_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<topic_publish>("tidegate::actors::topic_publish");
  cfg.add_message_type<topic_records>("tidegate::actors::topic_records");
  cfg.add_message_type<follow_outcome>("tidegate::actors::follow_outcome");
  cfg.add_message_type<follow_outcomes>("tidegate::actors::follow_outcomes");
  cfg.add_message_type<topic_info>("tidegate::actors::topic_info");
  cfg.add_message_type<followed_topics>("tidegate::actors::followed_topics");
}

}  // namespace tidegate::actors
