// `tidegate client`: one MMTP connection from the command line, printing every frame received
// and, with --sync, every SYNC op.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "client/connection.h"
#include "client/dispatch_cache.h"
#include "client/endpoint.h"
#include "client/event_loop.h"
#include "client/frame_text.h"
#include "client/sync_store.h"
#include "protocol/auth_token.h"

namespace tidegate::apps {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct client_options {
  std::string connect;
  std::string dispatch;
  std::string dispatch_key;
  std::string app_id;
  std::string device_id;
  std::string token;
  std::string user_id;
  std::string secret;
  uint64_t ttl_s = 3600;
  uint32_t heartbeat_ms = 0;  // 0: pings back to back, each after the previous PONG
  uint32_t pings = 1;
  double duration_s = 0;  // 0: stop after `pings` PONGs
  bool background = false;
  bool reconnect = false;
  uint32_t timeout_ms = 10'000;
  bool sync = false;
  std::string sync_key_file;
};

// Without --duration, --sync exits once no SYNC_DATA arrived for this long after login.
constexpr milliseconds sync_idle_exit{500};

bool printable(const std::string& text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      if (c != '\n' && c != '\t') {
        return false;
      }
    }
  }
  return true;  // UTF-8 bytes >= 0x80 print as they are
}

// A quoted string with \, " and newlines escaped, so one op stays on one line.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string hex(const std::string& bytes) {
  std::string out;
  char buf[3];
  for (unsigned char c : bytes) {
    std::snprintf(buf, sizeof(buf), "%02x", c);
    out += buf;
  }
  return out;
}

std::string describe_op(const std::string& bucket, const v1::Op& op) {
  std::string line = "op bucket=" + quoted(bucket) + " version=" + std::to_string(op.version())
                     + " business=" + quoted(op.business()) + " msg_id=" + quoted(op.msg_id());
  line += printable(op.payload()) ? " payload=" + quoted(op.payload())
                                  : " payload_hex=" + hex(op.payload());
  if (op.has_push()) {
    line += " push_title=" + quoted(op.push().title()) + " push_body=" + quoted(op.push().body());
  }
  return line;
}

int run_client(const client_options& opts) {
  client::connection_config config;
  config.addresses.clear();
  std::vector<client::endpoint> endpoints;
  std::string error;
  client::parse_endpoint_list(opts.connect, endpoints, error);  // validated at parse time
  for (const auto& ep : endpoints) {
    config.addresses.push_back(ep.to_string());
  }
  config.app_id = opts.app_id;
  config.device_id = opts.device_id;
  config.os = "cli";
  config.reconnect = opts.reconnect;
  config.foreground = !opts.background;
  config.connect_timeout = milliseconds{opts.timeout_ms};
  config.handshake_timeout = milliseconds{opts.timeout_ms};
  config.pong_timeout = milliseconds{opts.timeout_ms};
  if (opts.heartbeat_ms != 0) {
    config.heartbeat = client::heartbeat_config::fixed(milliseconds{opts.heartbeat_ms});
  }
  if (!opts.token.empty()) {
    config.token = opts.token;
  } else {
    auto now_s =
        std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    config.token = protocol::sign_token(opts.secret, opts.app_id, opts.user_id,
                                        static_cast<uint64_t>(now_s) + opts.ttl_s);
  }

  if (!opts.dispatch.empty()) {
    client::dispatch_config dc;
    std::vector<client::endpoint> dispatchers;
    client::parse_endpoint_list(opts.dispatch, dispatchers, error);  // validated at parse time
    for (const auto& ep : dispatchers) {
      dc.endpoints.push_back(ep.to_string());
    }
    dc.app_id = opts.app_id;
    dc.owner =
        opts.user_id.empty() ? protocol::token_user_id(opts.token).value_or("") : opts.user_id;
    dc.key = opts.dispatch_key;
    dc.timeout = milliseconds{opts.timeout_ms};
    config.dispatch = std::make_shared<client::dispatch_cache>(dc);
    if (auto failed = config.dispatch->refresh(); !failed.empty()) {
      std::cerr << "tidegate client: dispatch: " << failed
                << (config.addresses.empty() ? "\n" : "; trying --connect\n");
    } else {
      auto answer = *config.dispatch->answer();
      std::string list;
      for (const auto& address : answer.addresses) {
        list += (list.empty() ? "" : ", ") + address;
      }
      std::cerr << "tidegate client: dispatch: zone " << answer.zone << ": " << list << " (ttl "
                << answer.ttl_s << " s)\n";
    }
  }

  client::sync_store store{opts.sync_key_file};  // in memory without a file
  client::event_loop loop;
  auto last_sync_data = loop.now();
  if (opts.sync) {
    if (store.load() == client::sync_load_status::corrupt) {
      std::cerr << "tidegate client: warning: sync key " << store.load_error()
                << "; syncing every bucket from the start\n";
    } else if (!store.in_memory()) {
      std::cerr << "tidegate client: sync key " << store.path() << ": " << store.cursors().size()
                << " bucket(s)\n";
    }
    config.sync.enabled = true;
    config.sync.store = &store;
    config.sync.on_ops = [](const std::string& bucket, const std::vector<v1::Op>& ops) {
      for (const auto& op : ops) {
        std::cout << describe_op(bucket, op) << "\n";
      }
      std::cout << std::flush;
    };
    config.sync.on_reset = [](const std::string& bucket, uint64_t head) {
      std::cout << "reset bucket=" << quoted(bucket) << " head_version=" << head << std::endl;
    };
  }
  client::connection conn{loop, config};
  bool done = false;
  bool ok = false;
  uint32_t pongs = 0;
  bool by_duration = opts.duration_s > 0;
  bool sync_idle = opts.sync && !by_duration;
  // From a timer, not inside the callbacks: the connection acts on the frame first.
  auto ping_soon = [&] { loop.add_timer(milliseconds{0}, [&] { conn.ping_now(); }); };
  auto succeed_soon = [&] {
    loop.add_timer(milliseconds{0}, [&] {
      ok = done = true;
      conn.stop();
    });
  };

  // Polls for the end of the first sync: no SYNC_DATA for sync_idle_exit.
  std::function<void()> check_idle = [&] {
    auto quiet = loop.now() - last_sync_data;
    if (quiet >= sync_idle_exit) {
      ok = conn.state() == client::connection_state::ready;
      done = true;
      conn.stop();
      return;
    }
    loop.add_timer(sync_idle_exit - quiet, check_idle);
  };

  conn.on_frame([&](const protocol::frame& frame) {
    if (frame.type == v1::FRAME_TYPE_SYNC_DATA && opts.sync) {
      last_sync_data = loop.now();
      return;  // its ops print as lines of their own
    }
    std::cout << "<- " << client::describe_frame(frame) << std::endl;
    if (frame.type != v1::FRAME_TYPE_PONG || by_duration || opts.sync) {
      return;
    }
    if (++pongs >= opts.pings) {
      succeed_soon();
    } else if (opts.heartbeat_ms == 0) {
      ping_soon();
    }
  });
  conn.on_state([&](client::connection_state state, const client::close_info& info) {
    switch (state) {
      case client::connection_state::handshaking:
        std::cerr << "tidegate client: connected to " << conn.connected_address() << "\n";
        break;
      case client::connection_state::ready:
        std::cerr << "tidegate client: logged in as '" << conn.user_id() << "'\n";
        if (sync_idle) {
          last_sync_data = loop.now();
          loop.add_timer(sync_idle_exit, check_idle);
        } else if (opts.sync) {
          break;  // --duration: stay for online pushes
        } else if (!by_duration && opts.pings == 0) {
          succeed_soon();
        } else if (!by_duration && opts.heartbeat_ms == 0) {
          ping_soon();
        }
        break;
      case client::connection_state::waiting:
        std::cerr << "tidegate client: " << info.message << " [" << client::to_string(info.reason)
                  << "]; reconnecting\n";
        break;
      case client::connection_state::closed:
        if (info.reason != client::close_reason::stopped) {
          std::cerr << "tidegate client: error: " << info.message << " ["
                    << client::to_string(info.reason) << "]\n";
          done = true;
        }
        break;
      default:
        break;
    }
  });

  auto start = loop.now();
  auto limit =
      by_duration
          ? std::chrono::duration_cast<milliseconds>(std::chrono::duration<double>{opts.duration_s})
      : sync_idle ? milliseconds{10 * uint64_t{opts.timeout_ms}}  // a guard; the idle check ends it
                  : milliseconds{2 * uint64_t{opts.timeout_ms}}
                        + milliseconds{uint64_t{opts.pings} * opts.heartbeat_ms};
  conn.start();
  loop.run_until([&] { return done; }, start + limit);
  if (by_duration && !done) {
    ok = conn.state() == client::connection_state::ready;
    if (!ok) {
      std::cerr << "tidegate client: error: not logged in after " << opts.duration_s << " s (state "
                << client::to_string(conn.state()) << ")\n";
    }
  } else if (!done && sync_idle) {
    std::cerr << "tidegate client: error: sync did not finish within " << limit.count()
              << " ms (state " << client::to_string(conn.state()) << ")\n";
  } else if (!done) {
    std::cerr << "tidegate client: error: timed out after " << limit.count() << " ms (state "
              << client::to_string(conn.state()) << ", " << pongs << "/" << opts.pings
              << " pongs)\n";
  }
  conn.stop();
  const auto& c = conn.counters();
  std::cerr << "tidegate client: frames in " << c.frames_in << ", out " << c.frames_out
            << ", pings " << c.pings_sent << ", pongs " << c.pongs_received << ", last rtt "
            << conn.last_rtt().count() << " ms\n";
  if (const auto* sync = conn.sync()) {
    const auto& s = sync->counters();
    std::cerr << "tidegate client: sync ops " << s.delivered << ", duplicates " << s.duplicates
              << ", resets " << s.resets << ", gaps " << s.resyncs << ", held " << sync->held()
              << ", requests " << c.sync_requests << ", acks " << c.sync_acks << "\n";
    if (c.sync_save_failures != 0) {
      std::cerr << "tidegate client: error: could not save the sync key: " << store.last_error()
                << "\n";
      ok = false;
    }
  }
  return ok ? 0 : 1;
}

}  // namespace

void add_client_command(CLI::App& root, command_runner& run) {
  auto opts = std::make_shared<client_options>();
  auto* cmd = root.add_subcommand("client", "Connect to a node over MMTP, log in and ping");
  auto endpoint_list = [](const std::string& value) {
    std::vector<client::endpoint> endpoints;
    std::string error;
    return client::parse_endpoint_list(value, endpoints, error) ? std::string{} : error;
  };
  auto* connect = cmd->add_option("--connect", opts->connect,
                                  "HOST:PORT[,HOST:PORT...] of client listeners, raced in order "
                                  "(after dispatch's addresses)")
                      ->check(endpoint_list);
  auto* dispatch =
      cmd->add_option("--dispatch", opts->dispatch,
                      "HOST:PORT[,HOST:PORT...] of dispatch (HTTP) endpoints to ask first")
          ->check(endpoint_list);
  auto* dispatch_key = cmd->add_option("--dispatch-key", opts->dispatch_key,
                                       "The app's dispatch key, to check dispatch's answers");
  dispatch->needs(dispatch_key);
  dispatch_key->needs(dispatch);
  cmd->add_option("--app", opts->app_id, "App id")->required();
  cmd->add_option("--device", opts->device_id, "Device id (1-128 bytes)")
      ->required()
      ->check([](const std::string& value) {
        return value.empty() || value.size() > 128 ? std::string{"must be 1-128 bytes"}
                                                   : std::string{};
      });
  auto* token = cmd->add_option("--token", opts->token, "Login token from the app's backend");
  auto* user = cmd->add_option("--user", opts->user_id, "User id to mint a token for");
  auto* secret = cmd->add_option("--secret", opts->secret, "App secret to mint a token with");
  auto* ttl = cmd->add_option("--ttl", opts->ttl_s, "Minted token lifetime in seconds")
                  ->capture_default_str()
                  ->check(CLI::PositiveNumber);
  token->excludes(user)->excludes(secret)->excludes(ttl);
  user->needs(secret);
  secret->needs(user);
  ttl->needs(secret);
  cmd->add_option("--heartbeat", opts->heartbeat_ms,
                  "Fixed heartbeat interval in ms (default: ping again after each PONG)")
      ->check(CLI::Range(uint32_t{10}, uint32_t{3'600'000}));
  cmd->add_option("--pings", opts->pings, "PONGs to wait for before exiting")
      ->capture_default_str();
  cmd->add_option("--duration", opts->duration_s, "Stay connected this many seconds instead")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--background", opts->background, "Report the app as in the background");
  cmd->add_flag("--reconnect", opts->reconnect,
                "Reconnect (with backoff, or as GOAWAY says) instead of failing");
  cmd->add_option("--timeout", opts->timeout_ms, "Connect, login and pong timeout in ms")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{1}, uint32_t{600'000}));
  cmd->add_flag("--sync", opts->sync,
                "After login, sync and print every op (with --duration: also online pushes)");
  cmd->add_option("--sync-key-file", opts->sync_key_file,
                  "Load and save the sync key (bucket cursors) here; default: in memory")
      ->needs("--sync");
  cmd->callback([opts, &run, token, user, connect, dispatch] {
    if (token->count() == 0 && user->count() == 0) {
      throw CLI::RequiredError("--token or --user with --secret");
    }
    if (connect->count() == 0 && dispatch->count() == 0) {
      throw CLI::RequiredError("--connect or --dispatch");
    }
    if (dispatch->count() != 0 && opts->user_id.empty() && !protocol::token_user_id(opts->token)) {
      throw CLI::ValidationError("--token", "names no user for --dispatch (not a v1 token)");
    }
    run = [opts] { return run_client(*opts); };
  });
}

}  // namespace tidegate::apps
