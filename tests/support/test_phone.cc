#include "tests/support/test_phone.h"

#include <chrono>

#include "tests/support/raw_client.h"
#include "tests/support/test_node.h"

namespace tidegate::test {

client::connection_config test_phone(const std::string& user, client::sync_store* store) {
  using namespace std::chrono_literals;
  client::connection_config cc;
  cc.device_id = "phone-" + user;
  cc.app_id = test_app;
  cc.token = token_for(test_secret, test_app, user);
  cc.heartbeat = client::heartbeat_config::fixed(1s);
  cc.reconnect = true;
  if (store != nullptr) {
    cc.sync.enabled = true;
    cc.sync.store = store;
    cc.sync.ack_delay = 20ms;
  }
  return cc;
}

}  // namespace tidegate::test
