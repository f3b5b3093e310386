#pragma once

#include <caf/atom.hpp>
#include <caf/type_id.hpp>

// Atoms between cluster members. In 0.17 an atom is its text: renaming one is a wire change
// between nodes, so texts are never reused for another meaning.
CAF_ADD_ATOM(tidegate_cluster, tidegate::cluster, heartbeat_atom, "heartbeat")
CAF_ADD_ATOM(tidegate_cluster, tidegate::cluster, leave_atom, "leave")
CAF_ADD_ATOM(tidegate_cluster, tidegate::cluster, member_tick_atom, "mtick")
CAF_ADD_ATOM(tidegate_cluster, tidegate::cluster, member_start_atom, "mstart")
CAF_ADD_ATOM(tidegate_cluster, tidegate::cluster, members_atom, "mview")
CAF_ADD_ATOM(tidegate_cluster, tidegate::cluster, map_prepare_atom, "mprepare")
CAF_ADD_ATOM(tidegate_cluster, tidegate::cluster, map_promise_atom, "mpromise")
CAF_ADD_ATOM(tidegate_cluster, tidegate::cluster, map_propose_atom, "mpropose")
CAF_ADD_ATOM(tidegate_cluster, tidegate::cluster, map_accepted_atom, "maccepted")
CAF_ADD_ATOM(tidegate_cluster, tidegate::cluster, map_commit_atom, "mcommit")
CAF_ADD_ATOM(tidegate_cluster, tidegate::cluster, replica_synced_atom, "msynced")
CAF_ADD_ATOM(tidegate_cluster, tidegate::cluster, handoff_ready_atom, "mhandoff")
CAF_ADD_ATOM(tidegate_cluster, tidegate::cluster, drain_atom, "mdrain")
CAF_ADD_ATOM(tidegate_cluster, tidegate::cluster, zone_rules_atom, "mzones")
