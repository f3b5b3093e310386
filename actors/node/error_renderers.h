#pragma once

#include <caf/fwd.hpp>

namespace tidegate::actors {

/// Registers readable renderings of Tidegate's error categories ("gateway", "sync",
/// "storage", "writer", "supervisor") with `cfg`, so logs and replies say
/// "sync(reload_refused: bucket user must keep its id and kind)" instead of
/// "error(8, 'sync', ...)". Every actor system of a node calls it before it starts.
void add_error_renderers(caf::actor_system_config& cfg);

}  // namespace tidegate::actors
