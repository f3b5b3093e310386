#include "actors/node/error_renderers.h"

#include <string>

#include <caf/actor_system_config.hpp>

#include "actors/gateway/gateway_errc.h"
#include "actors/node/supervisor.h"
#include "actors/sync/storage_errors.h"
#include "actors/sync/storage_writer.h"
#include "actors/sync/sync_errc.h"

namespace tidegate::actors {
namespace {

const char* name_of(gateway_errc code) {
  return to_string(to_close_reason(caf::make_error(code)));
}

const char* name_of(sync_errc code) {
  return to_string(code);
}

const char* name_of(supervisor_errc code) {
  return code == supervisor_errc::restart_limit ? "restart_limit" : "start_failed";
}

const char* name_of(storage_writer_errc) {
  return "stopped";
}

// "<category>(<code name>[: <context string>])"
template <class Enum>
caf::actor_system_config::error_renderer renderer(const char* category) {
  return [category](uint8_t code, caf::atom_value, const caf::message& context) {
    std::string out = std::string{category} + "(" + name_of(static_cast<Enum>(code));
    if (context.size() == 1 && context.match_element<std::string>(0)) {
      out += ": " + context.get_as<std::string>(0);
    }
    return out + ")";
  };
}

}  // namespace

void add_error_renderers(caf::actor_system_config& cfg) {
  cfg.add_error_category(caf::atom("gateway"), renderer<gateway_errc>("gateway"));
  cfg.add_error_category(caf::atom("sync"), renderer<sync_errc>("sync"));
  cfg.add_error_category(caf::atom("writer"), renderer<storage_writer_errc>("writer"));
  cfg.add_error_category(caf::atom("supervisor"), renderer<supervisor_errc>("supervisor"));
  cfg.add_error_category(caf::atom("storage"), render_storage_error);
}

}  // namespace tidegate::actors
