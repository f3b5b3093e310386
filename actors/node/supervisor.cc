#include "actors/node/supervisor.h"

#include <chrono>
#include <iostream>
#include <optional>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/node/restart_budget.h"

namespace tidegate::actors {
namespace {

struct supervised_child {
  child_spec spec;
  caf::actor current;
};

struct supervisor_state {
  static inline const char* name = "tidegate.supervisor";
  std::vector<supervised_child> children;
  std::optional<restart_budget> budget;
  std::function<void(const std::string&)> on_restart;
};

using supervisor_actor = caf::stateful_actor<supervisor_state>;

uint64_t now_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
}

bool start_child(supervisor_actor* self, supervised_child& child) {
  child.current = child.spec.start(self->home_system());
  if (!child.current) {
    return false;
  }
  self->link_to(child.current);
  return true;
}

caf::behavior supervisor(supervisor_actor* self, supervisor_config cfg,
                         std::vector<child_spec> specs,
                         std::function<void(const std::string&)> on_restart) {
  auto& st = self->state;
  st.budget.emplace(cfg.intensity, cfg.period_ms);
  st.on_restart = std::move(on_restart);
  for (auto& spec : specs) {
    st.children.push_back({std::move(spec), {}});
    if (!start_child(self, st.children.back())) {
      self->quit(caf::make_error(supervisor_errc::start_failed, st.children.back().spec.name));
      return {};
    }
  }
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    for (auto& child : st.children) {
      if (child.current.address() != msg.source) {
        continue;
      }
      child.current = nullptr;
      if (!msg.reason) {
        return;  // finished its work: not restarted
      }
      if (!st.budget->try_restart(now_ms())) {
        std::cerr << "tidegate: supervisor: restart limit reached (" << child.spec.name
                  << " exited: " << self->home_system().render(msg.reason) << ")\n";
        self->quit(caf::make_error(supervisor_errc::restart_limit, child.spec.name));
        return;
      }
      std::cerr << "tidegate: supervisor: restarting " << child.spec.name << " after "
                << self->home_system().render(msg.reason) << "\n";
      if (!start_child(self, child)) {
        self->quit(caf::make_error(supervisor_errc::start_failed, child.spec.name));
        return;
      }
      if (st.on_restart) {
        st.on_restart(child.spec.name);
      }
      return;
    }
    self->quit(std::move(msg.reason));  // our own parent or a shutdown request
  });
  return {
      [self](caf::get_atom, const std::string& name) -> caf::result<caf::actor> {
        for (auto& child : self->state.children) {
          if (child.spec.name == name && child.current) {
            return child.current;
          }
        }
        return caf::make_error(caf::sec::invalid_argument, name);
      },
  };
}

}  // namespace

caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_config cfg,
                            std::vector<child_spec> children,
                            std::function<void(const std::string&)> on_restart) {
  return sys.spawn(supervisor, cfg, std::move(children), std::move(on_restart));
}

}  // namespace tidegate::actors
