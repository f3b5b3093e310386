#include "bench/load/sync_publish.h"

namespace tidegate::bench {

void append_op(std::string& body, const std::string& business, const std::string& owner,
               const std::string& msg_id, const std::string& payload) {
  body += R"({"business":")" + business + R"(","owner":")" + owner + R"(","msg_id":")" + msg_id
          + R"(","payload":")" + payload + "\"}";
}

size_t count_versions(const std::string& body) {
  size_t count = 0;
  for (auto at = body.find("\"version\":"); at != std::string::npos;
       at = body.find("\"version\":", at + 10)) {
    ++count;
  }
  return count;
}

}  // namespace tidegate::bench
