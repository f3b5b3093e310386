#include "actors/topics/topic_messages.h"

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

}  // namespace tidegate::actors
