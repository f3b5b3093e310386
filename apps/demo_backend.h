#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace tidegate::apps {

/// What the demo's backend did so far (read by the live line while it runs).
struct backend_totals {
  std::atomic<uint64_t> followed{0};  ///< Users following the demo topic.
  std::atomic<uint64_t> ops{0};       ///< SYNC ops acknowledged.
  std::atomic<uint64_t> messages{0};  ///< Topic messages acknowledged.
  std::atomic<uint64_t> retries{0};   ///< Requests answered with an error and sent again.
};

/// The demo topic every simulated user follows.
inline constexpr const char* demo_topic = "news";

/// A sample backend, as a real one uses the ingress (docs/ingress-api.md): it makes `users`
/// follow demo_topic, then until `stop` publishes a SYNC op (business "chat") to a random user
/// every `op_every_ms` and a topic message every `message_every_ms`, each through the next
/// member's HTTP port in turn (any member takes any request). A request that fails is sent
/// again with the same msg_id (idempotent), up to 10 s.
void run_backend(const std::vector<uint16_t>& http_ports, const std::string& app_id,
                 const std::string& secret, const std::vector<std::string>& users,
                 uint32_t op_every_ms, uint32_t message_every_ms, const std::atomic<bool>& stop,
                 backend_totals& totals);

}  // namespace tidegate::apps
