#pragma once

#include <functional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/config/node_config.h"

namespace tidegate::actors {

/// A child of a supervisor: its name and how to start it. `start` spawns the child and
/// returns it (the supervisor links to it); it runs again on every restart.
struct child_spec {
  std::string name;
  std::function<caf::actor(caf::actor_system&)> start;
};

/// Spawns a one_for_one supervisor: a child that exits abnormally is restarted alone; one
/// that exits normally is done. Past `cfg.intensity` restarts within `cfg.period_ms` the
/// supervisor exits with supervisor_errc::restart_limit, taking its children down (linked).
/// `on_restart(name)` runs on each restart (metrics, logs), on the supervisor's thread.
/// Messages: (caf::get_atom, std::string name) -> caf::actor, the child's current handle.
caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_config cfg,
                            std::vector<child_spec> children,
                            std::function<void(const std::string&)> on_restart = {});

/// Why a supervisor exited.
enum class supervisor_errc : uint8_t {
  restart_limit = 1,  ///< More restarts than the intensity allows within the period.
  start_failed,       ///< A child's start returned an invalid handle.
};

}  // namespace tidegate::actors

CAF_ERROR_CODE_ENUM(tidegate::actors::supervisor_errc, "supervisor")
