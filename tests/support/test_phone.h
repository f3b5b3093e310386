#pragma once

#include <string>

#include "client/connection.h"
#include "client/sync_store.h"

namespace tidegate::test {

/// The SDK config of `user`'s phone in the test app: device "phone-<user>", a signed token,
/// 1 s heartbeats, reconnecting. With a `store` (which must outlive the connection) sync is on
/// and acks go out after 20 ms. The caller adds the addresses and the callbacks.
client::connection_config test_phone(const std::string& user, client::sync_store* store = nullptr);

}  // namespace tidegate::test
