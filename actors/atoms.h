#pragma once

#include <caf/atom.hpp>
#include <caf/type_id.hpp>

// Atoms of actors/. In 0.17 an atom is its 10-character text: renaming one is a wire change
// between nodes, so texts are never reused for another meaning.
CAF_ADD_ATOM(tidegate_actors, tidegate::actors, inbound_atom, "inbound")
CAF_ADD_ATOM(tidegate_actors, tidegate::actors, outbound_atom, "outbound")
CAF_ADD_ATOM(tidegate_actors, tidegate::actors, tick_timer_atom, "ticktimer")
CAF_ADD_ATOM(tidegate_actors, tidegate::actors, replaced_atom, "replaced")
CAF_ADD_ATOM(tidegate_actors, tidegate::actors, goaway_atom, "goaway")
CAF_ADD_ATOM(tidegate_actors, tidegate::actors, drain_atom, "drain")
CAF_ADD_ATOM(tidegate_actors, tidegate::actors, hello_atom, "hello")
CAF_ADD_ATOM(tidegate_actors, tidegate::actors, count_atom, "count")
CAF_ADD_ATOM(tidegate_actors, tidegate::actors, crash_atom, "crash")
CAF_ADD_ATOM(tidegate_actors, tidegate::actors, children_atom, "children")
CAF_ADD_ATOM(tidegate_actors, tidegate::actors, publish_atom, "publish")
CAF_ADD_ATOM(tidegate_actors, tidegate::actors, head_atom, "head")
CAF_ADD_ATOM(tidegate_actors, tidegate::actors, sync_atom, "sync")
CAF_ADD_ATOM(tidegate_actors, tidegate::actors, write_atom, "write")
CAF_ADD_ATOM(tidegate_actors, tidegate::actors, deliver_atom, "deliver")
CAF_ADD_ATOM(tidegate_actors, tidegate::actors, sync_ack_atom, "syncack")
CAF_ADD_ATOM(tidegate_actors, tidegate::actors, login_atom, "login")
CAF_ADD_ATOM(tidegate_actors, tidegate::actors, committed_atom, "committed")
CAF_ADD_ATOM(tidegate_actors, tidegate::actors, reload_atom, "reload")
CAF_ADD_ATOM(tidegate_actors, tidegate::actors, delivered_atom, "delivered")
CAF_ADD_ATOM(tidegate_actors, tidegate::actors, cursors_atom, "cursors")
CAF_ADD_ATOM(tidegate_actors, tidegate::actors, receipts_atom, "receipts")
CAF_ADD_ATOM(tidegate_actors, tidegate::actors, dead_atom, "dead")
