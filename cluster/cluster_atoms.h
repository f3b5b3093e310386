#pragma once

#include <caf/atom.hpp>
#include <caf/type_id.hpp>

// Atoms between cluster members. In 0.17 an atom is its text: renaming one is a wire change
// between nodes, so texts are never reused for another meaning.
CAF_ADD_ATOM(tidegate_cluster, tidegate::cluster, heartbeat_atom, "heartbeat")
CAF_ADD_ATOM(tidegate_cluster, tidegate::cluster, leave_atom, "leave")
CAF_ADD_ATOM(tidegate_cluster, tidegate::cluster, member_tick_atom, "mtick")
CAF_ADD_ATOM(tidegate_cluster, tidegate::cluster, member_start_atom, "mstart")
