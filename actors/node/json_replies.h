#pragma once

#include <string>

#include "actors/admin/http_server.h"

#include <nlohmann/json.hpp>

namespace tidegate::actors {

/// A JSON answer of the node's own HTTP routes (cluster, dispatch, reload).
inline http_reply json_reply(int status, const nlohmann::json& body) {
  return http_reply{status, "application/json", body.dump()};
}

/// The error body every route of the node answers with: {"code": ..., "message": ...}.
inline http_reply error_reply(int status, const std::string& code, const std::string& message) {
  return json_reply(status, {{"code", code}, {"message", message}});
}

}  // namespace tidegate::actors
