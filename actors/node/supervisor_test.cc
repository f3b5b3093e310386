#include "actors/node/supervisor.h"

#include <atomic>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <gtest/gtest.h>

#include "actors/atoms.h"

namespace tidegate::actors {
namespace {

using namespace std::chrono_literals;

// A child that answers (caf::get_atom) with its id and dies on (crash_atom). (The unused tag
// exists because CAF 0.17.6 trips UBSan spawning a function actor without arguments.)
caf::behavior crashable(caf::event_based_actor* self, int /*tag*/) {
  return {
      [self](caf::get_atom) { return self->id(); },
      [self](crash_atom) { self->quit(caf::make_error(caf::sec::runtime_error, "crash")); },
      [self](caf::ok_atom) { self->quit(); },
  };
}

class SupervisorTest : public ::testing::Test {
 protected:
  caf::actor child_named(const caf::actor& sup, const std::string& name) {
    caf::actor result;
    self_->request(sup, 5s, caf::get_atom_v, name)
        .receive([&](caf::actor& a) { result = a; }, [](caf::error&) {});
    return result;
  }

  // Polls until the supervisor reports a child other than `old` (a restart happened).
  caf::actor restarted(const caf::actor& sup, const std::string& name, const caf::actor& old) {
    for (int i = 0; i < 500; ++i) {
      auto now = child_named(sup, name);
      if (now && now != old) {
        return now;
      }
      std::this_thread::sleep_for(2ms);  // wait for the supervisor's exit handler; bounded
    }
    return {};
  }

  static std::vector<child_spec> specs() {
    return {{"a", [](caf::actor_system& sys) { return sys.spawn(crashable, 0); }},
            {"b", [](caf::actor_system& sys) { return sys.spawn(crashable, 0); }}};
  }

  caf::actor_system_config cfg_;
  caf::actor_system sys_{cfg_};
  caf::scoped_actor self_{sys_};
};

TEST_F(SupervisorTest, CrashedChildIsRestartedAlone) {
  std::atomic<int> restarts{0};
  auto sup = spawn_supervisor(sys_, {5, 10'000}, specs(), [&](const std::string&) { ++restarts; });
  auto a = child_named(sup, "a");
  auto b = child_named(sup, "b");
  ASSERT_TRUE(a && b);
  self_->send(a, crash_atom_v);
  auto a2 = restarted(sup, "a", a);
  ASSERT_TRUE(a2);
  EXPECT_EQ(child_named(sup, "b"), b);  // one_for_one: b untouched
  EXPECT_EQ(restarts.load(), 1);
  self_->request(a2, 5s, caf::get_atom_v)
      .receive([](caf::actor_id) {}, [](caf::error& e) { FAIL() << to_string(e); });
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
}

TEST_F(SupervisorTest, NormalExitIsNotRestarted) {
  auto sup = spawn_supervisor(sys_, {5, 10'000}, specs());
  auto a = child_named(sup, "a");
  self_->monitor(a);
  self_->send(a, caf::ok_atom_v);
  self_->receive([](caf::down_msg&) {});
  // The supervisor handles the exit before the next request from us.
  for (int i = 0; i < 500 && child_named(sup, "a"); ++i) {
    std::this_thread::sleep_for(2ms);
  }
  EXPECT_FALSE(child_named(sup, "a"));
  caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
}

TEST_F(SupervisorTest, RestartLimitStopsTheSupervisorAndItsChildren) {
  auto sup = spawn_supervisor(sys_, {2, 60'000}, specs());
  auto b = child_named(sup, "b");
  self_->monitor(sup);
  self_->monitor(b);
  auto a = child_named(sup, "a");
  for (int i = 0; i < 2; ++i) {
    self_->send(a, crash_atom_v);
    a = restarted(sup, "a", a);
    ASSERT_TRUE(a) << "restart " << i;
  }
  self_->send(a, crash_atom_v);  // the third crash within the period
  caf::error sup_reason;
  int downs = 0;
  self_->receive_for(downs, 2)([&](caf::down_msg& msg) {
    if (msg.source == sup.address()) {
      sup_reason = msg.reason;
    }
  });
  EXPECT_EQ(sup_reason, caf::make_error(supervisor_errc::restart_limit));
}

}  // namespace
}  // namespace tidegate::actors
