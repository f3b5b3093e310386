#pragma once

#include <caf/actor.hpp>
#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/local_actor.hpp>

namespace tidegate::actors {

// Node-wide actors are found by name in the actor system's registry, not by a handle held
// since spawn, so one restarted by its supervisor is found at once (decision 0005). Each
// names itself when it starts and removes the name when it exits.
inline constexpr caf::atom_value session_registry_name = caf::atom("sessions");
inline constexpr caf::atom_value sync_router_name = caf::atom("sync");
inline constexpr caf::atom_value storage_writer_name = caf::atom("writer");
inline constexpr caf::atom_value topic_directory_name = caf::atom("topics");
inline constexpr caf::atom_value topic_relay_name = caf::atom("relay");
inline constexpr caf::atom_value replica_sink_name = caf::atom("replica");
inline constexpr caf::atom_value replica_outbox_name = caf::atom("outbox");
inline constexpr caf::atom_value delivery_outbox_name = caf::atom("peerpush");

/// Names `actor` `name` in the actor system's registry and returns it. Called right after
/// the spawn, so the name is there before anyone can look for it.
inline caf::actor name_actor(caf::actor_system& sys, caf::atom_value name, caf::actor actor) {
  sys.registry().put(name, actor);
  return actor;
}

/// Removes `name` when `self` exits, unless a newer actor took it meanwhile (a restart).
/// Called from the actor's behavior function.
inline void unname_on_exit(caf::local_actor* self, caf::atom_value name) {
  self->attach_functor(
      [sys = &self->home_system(), addr = self->address(), name](const caf::error&) {
        auto current = sys->registry().get<caf::actor>(name);
        if (current && current.address() == addr) {
          sys->registry().erase(name);
        }
      });
}

/// The session registry of `sys`, or an invalid handle while none runs.
inline caf::actor session_registry_of(caf::actor_system& sys) {
  return sys.registry().get<caf::actor>(session_registry_name);
}

/// The sync router of `sys`, or an invalid handle while none runs.
inline caf::actor sync_router_of(caf::actor_system& sys) {
  return sys.registry().get<caf::actor>(sync_router_name);
}

/// The storage writer of `sys`, or an invalid handle while none runs.
inline caf::actor storage_writer_of(caf::actor_system& sys) {
  return sys.registry().get<caf::actor>(storage_writer_name);
}

/// The topic directory of `sys`, or an invalid handle while none runs.
inline caf::actor topic_directory_of(caf::actor_system& sys) {
  return sys.registry().get<caf::actor>(topic_directory_name);
}

/// The topic relay of `sys`, or an invalid handle while none runs.
inline caf::actor topic_relay_of(caf::actor_system& sys) {
  return sys.registry().get<caf::actor>(topic_relay_name);
}

/// The replica sink of `sys`, or an invalid handle while none runs.
inline caf::actor replica_sink_of(caf::actor_system& sys) {
  return sys.registry().get<caf::actor>(replica_sink_name);
}

/// The replica outbox of `sys`, or an invalid handle while none runs.
inline caf::actor replica_outbox_of(caf::actor_system& sys) {
  return sys.registry().get<caf::actor>(replica_outbox_name);
}

/// The delivery outbox of `sys`, or an invalid handle while none runs.
inline caf::actor delivery_outbox_of(caf::actor_system& sys) {
  return sys.registry().get<caf::actor>(delivery_outbox_name);
}

}  // namespace tidegate::actors
