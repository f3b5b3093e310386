#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "cluster/cluster_status.h"
#include "cluster/member.h"
#include "cluster/node_services.h"

namespace tidegate::cluster {

/// How a node finds and watches its peers (`[cluster]` in the node's config).
struct membership_settings {
  /// This node; host and port are where its membership actor is published.
  member_info self;
  /// Cluster addresses ("host:port") dialled until a member answers there.
  std::vector<std::string> seeds;
  /// Every member sends each peer a heartbeat this often.
  uint32_t heartbeat_ms = 200;
  /// A peer not heard from for this long is unreachable (a killed peer is seen at once, when
  /// its connection closes).
  uint32_t failure_timeout_ms = 800;
  /// How often an address without a link is dialled again.
  uint32_t redial_ms = 500;
  /// A dial that has not completed after this long has failed.
  uint32_t connect_timeout_ms = 2000;
  /// This node's controller: told the view after every change.
  caf::actor controller;
  /// This node's services as they are now (the controller included), named to the peers in
  /// every heartbeat. Called on the membership actor's thread; must be thread-safe.
  std::function<node_services()> local_services;
};

/// Registers the types that travel between members with CAF, under the same names on every
/// node (an unregistered type arrives as an empty message).
void add_message_types(caf::actor_system_config& cfg);

/// Spawns the membership actor, detached so a busy scheduler never delays its heartbeats. It
/// does nothing until started: publish it on `settings.self`'s address, fill in the port
/// published, then send it `(member_start_atom, uint16_t port)`. From then on it dials the
/// seeds and the members it learns, sends heartbeats, detects failures and publishes what it
/// sees to `status`. `(leave_atom)` makes it tell every peer it leaves, answer ok, and stop
/// heartbeating; it ends with the actor system.
caf::actor spawn_membership(caf::actor_system& sys, membership_settings settings,
                            std::shared_ptr<cluster_status> status);

/// Unix milliseconds now: the incarnation stamp of a member starting.
int64_t unix_ms_now();

/// Milliseconds of the steady clock: what heartbeats, timeouts and retries are timed with.
int64_t steady_ms_now();

}  // namespace tidegate::cluster
