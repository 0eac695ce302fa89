// Module `dns_silent`: a DNS server that never answers, for the checks that must report a
// timeout (and not hang). Its process is this tool's hidden `blackhole` command: a UDP socket
// bound on 127.0.0.1:P that is never read, and a TCP socket listening on the same port whose
// connections are never accepted (the kernel completes the handshake; no byte ever comes back).
#include "tools/sandbox/blackhole.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <charconv>
#include <csignal>
#include <stdexcept>
#include <string_view>

#include "tools/sandbox/dns_net.hpp"
#include "tools/sandbox/env_file.hpp"
#include "tools/sandbox/fd.hpp"
#include "tools/sandbox/files.hpp"
#include "tools/sandbox/module.hpp"
#include "tools/sandbox/net.hpp"
#include "tools/sandbox/readiness.hpp"

namespace deploycheck::sandbox {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Another process may grab the port between our probe and the blackhole's bind.
constexpr int kPortAttempts = 5;
// Queued, never accepted TCP connections; beyond this the kernel drops SYNs (still silence).
constexpr int kBacklog = 64;

std::uint16_t parse_port(int argc, char** argv) {
  const std::string usage = "usage: deploycheck-sandboxctl blackhole --port PORT";
  if (argc != 4 || std::string_view(argv[2]) != "--port") throw std::runtime_error(usage);
  const std::string_view text = argv[3];
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
    throw std::runtime_error("blackhole: --port expects a port from 1 to 65535, got '" +
                             std::string(text) + "'. " + usage);
  }
  return static_cast<std::uint16_t>(value);
}

UniqueFd bind_or_throw(int type, std::uint16_t port, const char* protocol) {
  UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error(errno_text("blackhole: cannot bind 127.0.0.1:" + std::to_string(port) +
                                        " (" + protocol + ")"));
  }
  return fd;
}

class DnsSilentModule final : public Module {
 public:
  std::string_view name() const override { return "dns_silent"; }
  bool runs_process() const override { return true; }

  Started start(const Context& context) const override {
    const fs::path dir = context.data_dir / "dns_silent";
    make_dir(dir, 0755);
    const fs::path log = dir / "blackhole.log";
    for (int attempt = 1;; ++attempt) {
      const std::uint16_t port = pick_free_dns_port();
      fs::remove(log);
      process::ChildOptions run;
      // This very binary (the supervisor runs it), whatever its install path.
      run.program = "/proc/self/exe";
      run.args = {"blackhole", "--port", std::to_string(port)};
      run.cwd = dir;
      run.stdout_file = log;
      run.stderr_file = log;
      process::Child child = process::Child::start(run);
      // The blackhole binds UDP before it listens on TCP: a TCP connection proves both. That
      // connection stays in the accept queue, like every later one.
      WaitOutcome outcome =
          wait_until_ready(child, context.deadline, [&] { return tcp_accepts(port, 200ms); });
      if (outcome.ready) {
        update_env(context.data_dir, {{"SANDBOX_DNS_SILENT_PORT", std::to_string(port)}});
        return {std::move(child),
                "ready on 127.0.0.1:" + std::to_string(port) + " (udp, tcp): never answers"};
      }
      if (outcome.exited && attempt < kPortAttempts &&
          file_mentions(log, "Address already in use")) {
        continue;
      }
      throw std::runtime_error(
          (outcome.exited ? "the blackhole " + outcome.exited->describe() + " before it was ready"
                          : "the blackhole did not listen on 127.0.0.1:" + std::to_string(port) +
                                " before the deadline") +
          " (expected it to bind 127.0.0.1:" + std::to_string(port) + ", UDP and TCP).\n" +
          tail_of(log));
    }
  }
};

}  // namespace

int run_blackhole(int argc, char** argv) {
  const std::uint16_t port = parse_port(argc, argv);
  ::prctl(PR_SET_NAME, "dns-blackhole");
  // Blocked before binding, so a stop that comes early is still taken by sigwait.
  sigset_t stop;
  sigemptyset(&stop);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&stop, sig);
  ::sigprocmask(SIG_BLOCK, &stop, nullptr);

  UniqueFd udp = bind_or_throw(SOCK_DGRAM, port, "UDP");
  UniqueFd tcp = bind_or_throw(SOCK_STREAM, port, "TCP");
  if (::listen(tcp.get(), kBacklog) != 0) {
    throw std::runtime_error(
        errno_text("blackhole: cannot listen on 127.0.0.1:" + std::to_string(port) + " (TCP)"));
  }
  int sig = 0;
  ::sigwait(&stop, &sig);
  return 0;
}

const Module& dns_silent_module() {
  static const DnsSilentModule module;
  return module;
}

}  // namespace deploycheck::sandbox
