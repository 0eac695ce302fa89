// deploycheck-bench-latency-proxy: a DNS-shaped path with a long round trip, on loopback.
//
//   deploycheck-bench-latency-proxy --upstream IP:PORT --delay-ms N [--listen IP] [--port N]
//
// Listens on UDP and TCP at the same port (printed alone on stdout, then flushed) and forwards
// to the upstream server, adding N ms one way in each direction (round trip 2N ms):
//
//  - UDP: every datagram is sent at its arrival time + N — arrival as the kernel stamped it
//    (SO_TIMESTAMPNS), so a datagram is never held behind earlier ones or behind the proxy's
//    own work. Each client address gets its own upstream socket, so replies find their way
//    back. Every socket has 4 MiB receive and send buffers (SO_RCVBUFFORCE/SO_SNDBUFFORCE as
//    root; the start fails if the kernel grants less), so a burst of thousands of queries is
//    never dropped by the proxy; drops are counted anyway (SO_RXQ_OVFL) and reported.
//  - TCP: bytes are relayed with the same delay each way. The kernel completes the client's
//    handshake at once, so the first bytes to the server also wait for when they would have
//    arrived after a real handshake (accept + 3N): a connection costs its round trip.
//
// SIGUSR1 prints the counters since the previous print to stderr (datagrams each way, drops,
// how late the latest send was), so a caller can bracket one measurement; SIGTERM or SIGINT
// prints them and exits 0. The proxy
// also exits when its parent dies (PR_SET_PDEATHSIG). Standard library and Linux only: it must
// share nothing with the resolvers it measures.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

constexpr std::string_view kUsage =
    "usage: deploycheck-bench-latency-proxy --upstream IP:PORT --delay-ms N [--listen IP] "
    "[--port N]\n"
    "  Forwards UDP and TCP from IP:port (default 127.0.0.1, a free port, printed on stdout) to\n"
    "  the upstream, N ms later in each direction (round trip 2N ms). SIGUSR1 prints counters.\n";

constexpr int kSocketBuffer = 4 << 20;
constexpr std::size_t kMaxDatagram = 65536;
// A UDP client address idle this long loses its upstream socket (one dig per name uses a new
// source port each time).
constexpr std::int64_t kFlowIdleNs = 20'000'000'000;
constexpr int kPortAttempts = 20;

using Ns = std::int64_t;

Ns now_ns(clockid_t clock = CLOCK_MONOTONIC) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return Ns{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

Fd check_fd(int fd, const std::string& what) {
  if (fd < 0) throw std::runtime_error(errno_text(what));
  return Fd(fd);
}

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  std::string key() const { return std::string(reinterpret_cast<const char*>(&storage), length); }
};

std::optional<Address> parse_ip(const std::string& ip, std::uint16_t port) {
  Address a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    a.length = sizeof(sockaddr_in);
    return a;
  }
  if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    a.length = sizeof(sockaddr_in6);
    return a;
  }
  return std::nullopt;
}

std::optional<long> parse_number(std::string_view text, long min, long max) {
  long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

// "127.0.0.1:5353" or "[::1]:5353".
std::optional<Address> parse_ip_port(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  const auto port = parse_number(text.substr(colon + 1), 1, 65535);
  if (!port) return std::nullopt;
  return parse_ip(std::string(host), static_cast<std::uint16_t>(*port));
}

void set_nonblocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    throw std::runtime_error(errno_text("cannot make a socket non-blocking"));
  }
}

// 4 MiB each way, past net.core.[rw]mem_max when we may (CAP_NET_ADMIN). The kernel reports
// twice what was set; anything below 4 MiB means a burst could be dropped here: refuse.
void set_buffers(int fd) {
  for (const auto& [force, plain, name] :
       {std::tuple{SO_RCVBUFFORCE, SO_RCVBUF, "receive"}, {SO_SNDBUFFORCE, SO_SNDBUF, "send"}}) {
    if (setsockopt(fd, SOL_SOCKET, force, &kSocketBuffer, sizeof kSocketBuffer) != 0) {
      setsockopt(fd, SOL_SOCKET, plain, &kSocketBuffer, sizeof kSocketBuffer);
    }
    int granted = 0;
    socklen_t length = sizeof granted;
    getsockopt(fd, SOL_SOCKET, plain, &granted, &length);
    if (granted < kSocketBuffer) {
      throw std::runtime_error(
          std::string("the kernel granted a ") + name + " buffer of " + std::to_string(granted) +
          " bytes, expected at least 4 MiB: run as root (SO_RCVBUFFORCE) or raise "
          "net.core.rmem_max and net.core.wmem_max to 4194304");
    }
  }
}

// A UDP socket whose datagrams carry the kernel's arrival time and the socket's drop count.
void enable_udp_cmsgs(int fd) {
  const int on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on) != 0) {
    throw std::runtime_error(errno_text("cannot enable SO_TIMESTAMPNS/SO_RXQ_OVFL"));
  }
}

struct Options {
  Address upstream;
  Ns delay = 0;
  std::string listen_ip = "127.0.0.1";
  std::uint16_t port = 0;
};

Options parse_arguments(int argc, char** argv) {
  Options options;
  bool have_upstream = false, have_delay = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (i + 1 >= argc) throw std::invalid_argument(std::string(flag) + " needs a value");
    const std::string_view value = argv[++i];
    if (flag == "--upstream") {
      const auto address = parse_ip_port(value);
      if (!address)
        throw std::invalid_argument("--upstream expects IP:PORT, got " + std::string(value));
      options.upstream = *address;
      have_upstream = true;
    } else if (flag == "--delay-ms") {
      const auto ms = parse_number(value, 0, 60'000);
      if (!ms)
        throw std::invalid_argument("--delay-ms expects 0..60000, got " + std::string(value));
      options.delay = Ns{*ms} * 1'000'000;
      have_delay = true;
    } else if (flag == "--listen") {
      options.listen_ip = value;
    } else if (flag == "--port") {
      const auto port = parse_number(value, 1, 65535);
      if (!port) throw std::invalid_argument("--port expects 1..65535, got " + std::string(value));
      options.port = static_cast<std::uint16_t>(*port);
    } else {
      throw std::invalid_argument("unknown option " + std::string(flag));
    }
  }
  if (!have_upstream || !have_delay) {
    throw std::invalid_argument("--upstream and --delay-ms are required");
  }
  return options;
}

// What epoll hands back: the kind of descriptor and, for flows and connections, their id.
enum class Kind : std::uint64_t {
  kUdpListen,
  kTcpListen,
  kTimer,
  kSignal,
  kFlow,
  kClient,
  kServer
};
std::uint64_t tag(Kind kind, std::uint64_t id = 0) {
  return (static_cast<std::uint64_t>(kind) << 56) | id;
}
Kind kind_of(std::uint64_t tag) {
  return static_cast<Kind>(tag >> 56);
}
std::uint64_t id_of(std::uint64_t tag) {
  return tag & ((std::uint64_t{1} << 56) - 1);
}

enum class Direction { kToServer = 0, kToClient = 1 };

// Something to do at `due`: a datagram to send, bytes to relay, or a half-close to pass on.
struct Event {
  enum class Type { kUdpToServer, kUdpToClient, kTcpData, kTcpShutdown };
  Ns due;
  std::uint64_t seq;  // keeps arrival order among equal due times
  Type type;
  std::uint64_t id;  // flow or connection
  Direction direction = Direction::kToServer;
  Address client;  // kUdpToClient
  std::string bytes;
};
struct Later {
  bool operator()(const Event& a, const Event& b) const {
    return a.due != b.due ? a.due > b.due : a.seq > b.seq;
  }
};

struct Flow {
  Fd socket;  // connected to the upstream
  Address client;
  Ns last_active = 0;
  std::uint32_t drops = 0;
};

struct Connection {
  Fd client, server;
  Ns accepted = 0;
  // Per direction: bytes waiting for the destination to take them, and the half-close to pass
  // on once they are written.
  std::array<std::string, 2> pending;
  std::array<bool, 2> shutdown_due{false, false};
  std::array<bool, 2> shut{false, false};
  int destination(Direction d) const {
    return d == Direction::kToServer ? server.get() : client.get();
  }
};

struct Counters {
  std::uint64_t udp_to_server = 0, udp_to_client = 0, udp_send_errors = 0, flows = 0;
  std::uint64_t tcp_connections = 0, tcp_bytes = 0;
  std::uint64_t flow_drops = 0;  // of flows already closed; dropped() adds the rest
  Ns max_late = 0;
  std::uint64_t late_ns = 0, sent = 0;  // for the mean lateness
  std::uint64_t late_over_1ms = 0;
};

class Proxy {
 public:
  explicit Proxy(Options options) : options_(std::move(options)) {
    epoll_ = check_fd(epoll_create1(EPOLL_CLOEXEC), "epoll_create1");
    open_listeners();
    timer_ = check_fd(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC), "timerfd");
    watch(timer_.get(), EPOLLIN, tag(Kind::kTimer));
    sigset_t signals;
    sigemptyset(&signals);
    for (int s : {SIGTERM, SIGINT, SIGUSR1}) sigaddset(&signals, s);
    sigprocmask(SIG_BLOCK, &signals, nullptr);
    signal_ = check_fd(signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC), "signalfd");
    watch(signal_.get(), EPOLLIN, tag(Kind::kSignal));
  }

  std::uint16_t port() const { return port_; }

  void run() {
    std::array<epoll_event, 256> ready{};
    Ns last_sweep = now_ns();
    while (running_) {
      const int n = epoll_wait(epoll_.get(), ready.data(), ready.size(), 1000);
      if (n < 0 && errno != EINTR) throw std::runtime_error(errno_text("epoll_wait"));
      for (int k = 0; k < n; ++k) dispatch(ready[k]);
      fire_due();
      if (const Ns now = now_ns(); now - last_sweep > 1'000'000'000) {
        sweep_idle_flows(now);
        last_sweep = now;
      }
    }
  }

  // The counters since the previous print (SIGUSR1), so a caller can bracket one measurement.
  void print_counters(const char* when) {
    Counters now = counters_;
    now.flow_drops = dropped();
    const auto since = [&](std::uint64_t Counters::*field) {
      return static_cast<unsigned long long>(now.*field - printed_.*field);
    };
    std::fprintf(
        stderr,
        "latency-proxy %s: udp %llu datagrams to the server, %llu to clients, %llu new "
        "client addresses, %llu dropped by the proxy's sockets, %llu send errors; tcp "
        "%llu connections, %llu bytes; sends %.3f ms after their due time on average, %.3f "
        "ms at most (%llu over 1 ms)\n",
        when, since(&Counters::udp_to_server), since(&Counters::udp_to_client),
        since(&Counters::flows), since(&Counters::flow_drops), since(&Counters::udp_send_errors),
        since(&Counters::tcp_connections), since(&Counters::tcp_bytes),
        static_cast<double>(since(&Counters::late_ns)) /
            static_cast<double>(std::max(1ULL, since(&Counters::sent))) / 1e6,
        static_cast<double>(now.max_late) / 1e6, since(&Counters::late_over_1ms));
    printed_ = now;
    counters_.max_late = 0;
  }

 private:
  void watch(int fd, std::uint32_t events, std::uint64_t data) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = data;
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
      throw std::runtime_error(errno_text("epoll_ctl"));
    }
  }

  // UDP and TCP on one port: a free one picked for UDP, then TCP on the same number.
  void open_listeners() {
    for (int attempt = 1;; ++attempt) {
      const auto address = parse_ip(options_.listen_ip, options_.port);
      if (!address)
        throw std::invalid_argument("--listen expects an IP, got " + options_.listen_ip);
      const int family = address->storage.ss_family;
      Fd udp = check_fd(socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "socket");
      set_buffers(udp.get());
      enable_udp_cmsgs(udp.get());
      if (bind(udp.get(), address->get(), address->length) != 0) {
        throw std::runtime_error(errno_text("cannot bind UDP " + options_.listen_ip + ":" +
                                            std::to_string(options_.port)));
      }
      Address bound;
      bound.length = sizeof bound.storage;
      getsockname(udp.get(), reinterpret_cast<sockaddr*>(&bound.storage), &bound.length);
      const std::uint16_t port =
          ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound.storage)->sin_port
                                  : reinterpret_cast<sockaddr_in6*>(&bound.storage)->sin6_port);

      Fd tcp = check_fd(socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "socket");
      const int on = 1;
      setsockopt(tcp.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
      const auto tcp_address = parse_ip(options_.listen_ip, port);
      if (bind(tcp.get(), tcp_address->get(), tcp_address->length) != 0) {
        if (errno == EADDRINUSE && options_.port == 0 && attempt < kPortAttempts) continue;
        throw std::runtime_error(
            errno_text("cannot bind TCP " + options_.listen_ip + ":" + std::to_string(port)));
      }
      if (listen(tcp.get(), 1024) != 0) throw std::runtime_error(errno_text("listen"));
      udp_listen_ = std::move(udp);
      tcp_listen_ = std::move(tcp);
      port_ = port;
      watch(udp_listen_.get(), EPOLLIN, tag(Kind::kUdpListen));
      watch(tcp_listen_.get(), EPOLLIN, tag(Kind::kTcpListen));
      return;
    }
  }

  void dispatch(const epoll_event& ev) {
    const std::uint64_t id = id_of(ev.data.u64);
    switch (kind_of(ev.data.u64)) {
      case Kind::kUdpListen:
        read_from_clients();
        break;
      case Kind::kTcpListen:
        accept_all();
        break;
      case Kind::kTimer: {
        std::uint64_t expirations = 0;
        [[maybe_unused]] const auto r = ::read(timer_.get(), &expirations, sizeof expirations);
        break;
      }
      case Kind::kSignal:
        read_signals();
        break;
      case Kind::kFlow:
        read_from_server(id);
        break;
      case Kind::kClient:
      case Kind::kServer: {
        const Direction from_side =
            kind_of(ev.data.u64) == Kind::kClient ? Direction::kToServer : Direction::kToClient;
        if (ev.events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) relay_reads(id, from_side);
        // The other direction's destination is this side: it may take pending bytes now.
        if (ev.events & EPOLLOUT) {
          flush(id,
                from_side == Direction::kToServer ? Direction::kToClient : Direction::kToServer);
        }
        break;
      }
    }
  }

  void read_signals() {
    signalfd_siginfo info{};
    while (::read(signal_.get(), &info, sizeof info) == sizeof info) {
      if (info.ssi_signo == SIGUSR1) {
        print_counters("counters");
      } else {
        running_ = false;
      }
    }
  }

  void schedule(Event event) {
    event.seq = next_seq_++;
    queue_.push(std::move(event));
  }

  // One datagram with its kernel arrival time (monotonic) and the socket's drop counter.
  struct Datagram {
    std::string bytes;
    Address from;
    Ns arrival = 0;
    std::optional<std::uint32_t> drops;
  };
  std::optional<Datagram> receive(int fd) {
    std::array<char, kMaxDatagram> buffer;
    alignas(cmsghdr) std::array<char, 256> control{};
    Datagram d;
    iovec iov{buffer.data(), buffer.size()};
    msghdr msg{};
    msg.msg_name = &d.from.storage;
    msg.msg_namelen = sizeof d.from.storage;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    const ssize_t n = recvmsg(fd, &msg, 0);
    if (n < 0) {
      // ECONNREFUSED: an ICMP port unreachable from the server for an earlier datagram.
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return std::nullopt;
      if (errno == ECONNREFUSED) return Datagram{};
      throw std::runtime_error(errno_text("recvmsg"));
    }
    d.from.length = msg.msg_namelen;
    d.bytes.assign(buffer.data(), static_cast<std::size_t>(n));
    const Ns mono = now_ns();
    d.arrival = mono;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET) continue;
      if (c->cmsg_type == SCM_TIMESTAMPNS) {
        timespec stamp{};
        std::memcpy(&stamp, CMSG_DATA(c), sizeof stamp);
        const Ns stamped = Ns{stamp.tv_sec} * 1'000'000'000 + stamp.tv_nsec;
        const Ns waited = now_ns(CLOCK_REALTIME) - stamped;  // in the socket's queue
        if (waited > 0 && waited < 1'000'000'000) d.arrival = mono - waited;
      } else if (c->cmsg_type == SO_RXQ_OVFL) {
        std::uint32_t drops = 0;
        std::memcpy(&drops, CMSG_DATA(c), sizeof drops);
        d.drops = drops;
      }
    }
    return d;
  }

  void read_from_clients() {
    while (auto d = receive(udp_listen_.get())) {
      if (d->bytes.empty() && d->from.length == 0) continue;
      if (d->drops) listen_drops_ = std::max(listen_drops_, *d->drops);
      const std::uint64_t id = flow_for(d->from, d->arrival);
      ++counters_.udp_to_server;
      schedule(Event{d->arrival + options_.delay,
                     0,
                     Event::Type::kUdpToServer,
                     id,
                     Direction::kToServer,
                     {},
                     std::move(d->bytes)});
    }
  }

  std::uint64_t flow_for(const Address& client, Ns now) {
    const std::string key = client.key();
    if (const auto it = flow_ids_.find(key); it != flow_ids_.end()) {
      flows_.at(it->second).last_active = now;
      return it->second;
    }
    const int family = options_.upstream.storage.ss_family;
    Fd socket = check_fd(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "socket");
    set_buffers(socket.get());
    enable_udp_cmsgs(socket.get());
    if (connect(socket.get(), options_.upstream.get(), options_.upstream.length) != 0) {
      throw std::runtime_error(errno_text("cannot connect a UDP socket to the upstream"));
    }
    const std::uint64_t id = next_id_++;
    watch(socket.get(), EPOLLIN, tag(Kind::kFlow, id));
    flows_.emplace(id, Flow{std::move(socket), client, now, 0});
    flow_ids_.emplace(key, id);
    ++counters_.flows;
    return id;
  }

  void read_from_server(std::uint64_t id) {
    const auto it = flows_.find(id);
    if (it == flows_.end()) return;
    Flow& flow = it->second;
    while (auto d = receive(flow.socket.get())) {
      if (d->bytes.empty() && d->from.length == 0) continue;
      if (d->drops) flow.drops = std::max(flow.drops, *d->drops);
      flow.last_active = d->arrival;
      ++counters_.udp_to_client;
      schedule(Event{d->arrival + options_.delay, 0, Event::Type::kUdpToClient, id,
                     Direction::kToClient, flow.client, std::move(d->bytes)});
    }
  }

  // Datagrams the kernel dropped at the proxy's sockets (full receive buffers), so far.
  std::uint64_t dropped() const {
    std::uint64_t total = listen_drops_ + counters_.flow_drops;
    for (const auto& [id, flow] : flows_) total += flow.drops;
    return total;
  }

  void sweep_idle_flows(Ns now) {
    for (auto it = flows_.begin(); it != flows_.end();) {
      // Never while a datagram of this flow may still wait in the queue (due within the delay).
      if (now - it->second.last_active > kFlowIdleNs + options_.delay) {
        counters_.flow_drops += it->second.drops;
        flow_ids_.erase(it->second.client.key());
        it = flows_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void accept_all() {
    for (;;) {
      Fd client(accept4(tcp_listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (client.get() < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) {
          return;
        }
        throw std::runtime_error(errno_text("accept4"));
      }
      const int family = options_.upstream.storage.ss_family;
      Fd server(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      if (server.get() < 0) throw std::runtime_error(errno_text("socket"));
      const int on = 1;
      setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      setsockopt(server.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
      if (connect(server.get(), options_.upstream.get(), options_.upstream.length) != 0 &&
          errno != EINPROGRESS) {
        continue;  // the server refuses: dropping the client's socket resets it the same way
      }
      const std::uint64_t id = next_id_++;
      const std::uint32_t events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
      watch(client.get(), events, tag(Kind::kClient, id));
      watch(server.get(), events, tag(Kind::kServer, id));
      Connection& c = connections_[id];
      c.client = std::move(client);
      c.server = std::move(server);
      c.accepted = now_ns();
      ++counters_.tcp_connections;
    }
  }

  // Reads everything the side `from` has sent (edge-triggered) and schedules it towards the
  // other side; its end of stream becomes a scheduled half-close.
  void relay_reads(std::uint64_t id, Direction towards) {
    const auto it = connections_.find(id);
    if (it == connections_.end()) return;
    Connection& c = it->second;
    const int source = towards == Direction::kToServer ? c.client.get() : c.server.get();
    std::array<char, 65536> buffer;
    for (;;) {
      const ssize_t n = ::read(source, buffer.data(), buffer.size());
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n < 0 && errno == EINTR) continue;
      const Ns now = now_ns();
      // After a real handshake the client's first bytes reach the server 3 one-way delays
      // after it called connect().
      const Ns due = towards == Direction::kToServer
                         ? std::max(now + options_.delay, c.accepted + 3 * options_.delay)
                         : now + options_.delay;
      if (n < 0) {  // reset: pass it on as a close at the same time
        schedule(Event{due, 0, Event::Type::kTcpShutdown, id, towards, {}, {}});
        return;
      }
      if (n == 0) {
        schedule(Event{due, 0, Event::Type::kTcpShutdown, id, towards, {}, {}});
        return;
      }
      counters_.tcp_bytes += static_cast<std::uint64_t>(n);
      schedule(Event{due,
                     0,
                     Event::Type::kTcpData,
                     id,
                     towards,
                     {},
                     std::string(buffer.data(), static_cast<std::size_t>(n))});
    }
  }

  // Writes what the destination of `d` will take; passes on a due half-close once all is out.
  void flush(std::uint64_t id, Direction d) {
    const auto it = connections_.find(id);
    if (it == connections_.end()) return;
    Connection& c = it->second;
    std::string& pending = c.pending[static_cast<int>(d)];
    while (!pending.empty()) {
      const ssize_t n = ::send(c.destination(d), pending.data(), pending.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOTCONN) return;
        if (errno == EINTR) continue;
        connections_.erase(it);  // the peer is gone: close both sides
        return;
      }
      pending.erase(0, static_cast<std::size_t>(n));
    }
    const int k = static_cast<int>(d);
    if (c.shutdown_due[k] && !c.shut[k]) {
      ::shutdown(c.destination(d), SHUT_WR);
      c.shut[k] = true;
      if (c.shut[0] && c.shut[1]) connections_.erase(it);
    }
  }

  void fire_due() {
    const Ns now = now_ns();
    while (!queue_.empty() && queue_.top().due <= now) {
      Event event = std::move(const_cast<Event&>(queue_.top()));
      queue_.pop();
      const Ns late = now - event.due;
      counters_.max_late = std::max(counters_.max_late, late);
      counters_.late_ns += static_cast<std::uint64_t>(late);
      ++counters_.sent;
      if (late > 1'000'000) ++counters_.late_over_1ms;
      fire(event);
    }
    itimerspec spec{};
    if (!queue_.empty()) {
      const Ns due = std::max<Ns>(queue_.top().due, 1);
      spec.it_value = {static_cast<time_t>(due / 1'000'000'000),
                       static_cast<long>(due % 1'000'000'000)};
    }
    timerfd_settime(timer_.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
  }

  void fire(Event& event) {
    switch (event.type) {
      case Event::Type::kUdpToServer: {
        const auto it = flows_.find(event.id);
        if (it == flows_.end()) return;
        if (::send(it->second.socket.get(), event.bytes.data(), event.bytes.size(), 0) < 0) {
          ++counters_.udp_send_errors;
        }
        return;
      }
      case Event::Type::kUdpToClient:
        if (::sendto(udp_listen_.get(), event.bytes.data(), event.bytes.size(), 0,
                     event.client.get(), event.client.length) < 0) {
          ++counters_.udp_send_errors;
        }
        return;
      case Event::Type::kTcpData: {
        const auto it = connections_.find(event.id);
        if (it == connections_.end()) return;
        it->second.pending[static_cast<int>(event.direction)] += event.bytes;
        flush(event.id, event.direction);
        return;
      }
      case Event::Type::kTcpShutdown: {
        const auto it = connections_.find(event.id);
        if (it == connections_.end()) return;
        it->second.shutdown_due[static_cast<int>(event.direction)] = true;
        flush(event.id, event.direction);
        return;
      }
    }
  }

  Options options_;
  Fd epoll_, udp_listen_, tcp_listen_, timer_, signal_;
  std::uint16_t port_ = 0;
  bool running_ = true;
  std::priority_queue<Event, std::vector<Event>, Later> queue_;
  std::uint64_t next_seq_ = 0;
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, Flow> flows_;
  std::unordered_map<std::string, std::uint64_t> flow_ids_;
  std::unordered_map<std::uint64_t, Connection> connections_;
  Counters counters_;
  Counters printed_;
  std::uint32_t listen_drops_ = 0;
};

// One upstream socket per client address: a thousand `dig` processes need a thousand.
void raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse_arguments(argc, argv);
    const pid_t parent = getppid();
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) return 0;  // the parent died before the line above
    raise_fd_limit();
    Proxy proxy(options);
    std::printf("%u\n", proxy.port());
    std::fflush(stdout);
    std::fprintf(stderr, "latency-proxy: %s:%u (udp, tcp) -> upstream, +%.1f ms each way\n",
                 options.listen_ip.c_str(), proxy.port(), static_cast<double>(options.delay) / 1e6);
    proxy.run();
    proxy.print_counters("stopped");
    return 0;
  } catch (const std::invalid_argument& e) {
    std::cerr << "deploycheck-bench-latency-proxy: " << e.what() << "\n" << kUsage;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "deploycheck-bench-latency-proxy: " << e.what() << "\n";
    return 1;
  }
}
