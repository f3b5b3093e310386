#include "cluster/map_consensus.h"

#include <algorithm>
#include <tuple>

namespace tidegate::cluster {

bool newer(const shard_map& a, const shard_map& b) {
  return std::tie(a.term, a.version) > std::tie(b.term, b.version);
}

bool map_acceptor::prepare(uint64_t term) {
  // Strictly above: a term is promised to one leader only. Two leaders that both believe they
  // lead (views differ for a moment) would otherwise both gather a majority for one term, and
  // the second could commit a map built on a base that misses the first one's commits.
  if (term <= state_.promised_term) {
    return false;
  }
  state_.promised_term = term;
  return true;
}

bool map_acceptor::accept(const shard_map& map) {
  if (map.term < state_.promised_term || !newer(map, state_.accepted)) {
    return false;
  }
  state_.promised_term = map.term;
  state_.accepted = map;
  return true;
}

bool map_acceptor::commit(const shard_map& map) {
  if (!newer(map, state_.committed)) {
    return false;
  }
  state_.committed = map;
  if (newer(map, state_.accepted)) {
    state_.accepted = map;
  }
  return true;
}

map_proposer::map_proposer(std::string leader, uint64_t at_least, size_t majority)
    : leader_(std::move(leader)), term_(at_least + 1), majority_(majority) {}

bool map_proposer::promised(const std::string& member, const shard_map& accepted) {
  if (prepared_) {
    return false;
  }
  promises_.insert(member);
  if (newer(accepted, base_)) {
    base_ = accepted;
  }
  max_version_ = std::max(max_version_, accepted.version);
  prepared_ = promises_.size() >= majority_;
  return prepared_;
}

shard_map map_proposer::propose(shard_map next) {
  auto map = std::move(next);
  map.term = term_;
  map.version = ++max_version_;
  map.issued_by = leader_;
  base_ = map;
  in_flight_ = map;
  acks_.clear();
  return map;
}

std::optional<shard_map> map_proposer::accepted(const std::string& member, uint64_t version) {
  if (!in_flight_ || in_flight_->version != version) {
    return std::nullopt;
  }
  acks_.insert(member);
  if (acks_.size() < majority_) {
    return std::nullopt;
  }
  auto committed = std::move(*in_flight_);
  in_flight_.reset();
  return committed;
}

}  // namespace tidegate::cluster
