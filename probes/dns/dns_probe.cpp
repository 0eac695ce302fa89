#include "probes/dns/dns_probe.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <type_traits>

#include "probes/dns/flow_control.hpp"
#include "probes/dns/wire.hpp"
#include "probes/policy.hpp"

namespace deploycheck::dns {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::array<std::pair<RecordType, const char*>, 8> kTypeNames{{
    {RecordType::kA, "A"},
    {RecordType::kAAAA, "AAAA"},
    {RecordType::kCNAME, "CNAME"},
    {RecordType::kMX, "MX"},
    {RecordType::kTXT, "TXT"},
    {RecordType::kNS, "NS"},
    {RecordType::kCAA, "CAA"},
    {RecordType::kSRV, "SRV"},
}};

constexpr std::array<std::pair<Status, const char*>, 7> kStatusNames{{
    {Status::kAnswer, "NOERROR"},
    {Status::kNoData, "NODATA"},
    {Status::kNxDomain, "NXDOMAIN"},
    {Status::kServFail, "SERVFAIL"},
    {Status::kRefused, "REFUSED"},
    {Status::kTimeout, "TIMEOUT"},
    {Status::kError, "ERROR"},
}};

// The EDNS UDP payload size of DNS Flag Day 2020: large enough for most answers, small enough
// never to be fragmented. Bigger answers come back truncated and are asked again over TCP.
constexpr int kEdnsPayload = 1232;
// Our UDP socket's receive buffer. A whole window of replies can arrive while we are still
// sending; Linux's default 208 KiB holds only about 250 small datagrams.
constexpr int kReceiveBuffer = 4 << 20;
// The most queries sent in one go: between two bursts the sockets are read, so replies are
// drained while a window fills, and pacing (Run::send_interval) spaces the bursts.
constexpr int kSendBurst = 32;

void init_library() {
  // ares_library_init is not thread-safe and must run before the first channel. It is never
  // undone: other code in the process (libcurl) may use c-ares too, and process exit frees it.
  static std::once_flag once;
  std::call_once(once, [] {
    if (const int rc = ares_library_init(ARES_LIB_INIT_ALL); rc != ARES_SUCCESS) {
      throw std::runtime_error(std::string("c-ares initialisation failed: ") + ares_strerror(rc));
    }
  });
}

struct ChannelDeleter {
  void operator()(ares_channel channel) const { ares_destroy(channel); }
};
using Channel = std::unique_ptr<std::remove_pointer_t<ares_channel>, ChannelDeleter>;

int configure_socket(ares_socket_t fd, int type, void* /*user*/) {
  if (type == SOCK_DGRAM) {
    // SO_RCVBUFFORCE passes net.core.rmem_max when we may (CAP_NET_ADMIN); otherwise take what
    // SO_RCVBUF grants. Failing both only means a smaller buffer, and the window adapts.
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &kReceiveBuffer, sizeof kReceiveBuffer) != 0) {
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kReceiveBuffer, sizeof kReceiveBuffer);
    }
  }
  return 0;
}

// One c-ares channel to the resolver: UDP that hands truncated replies back to us, or TCP only.
Channel open_channel(const Resolver& resolver, const Options& options, bool tcp) {
  init_library();
  ares_options opts{};
  // ARES_FLAG_NOCHECKRESP: without it c-ares 1.18 swallows SERVFAIL, REFUSED and NOTIMP replies,
  // retries, and finally reports ARES_ECONNREFUSED; those replies are facts we report.
  // ARES_FLAG_IGNTC (UDP): hand truncated replies to us, so we know which queries went on to
  // TCP (via_tcp); c-ares's own silent switch would hide it.
  opts.flags = ARES_FLAG_EDNS | ARES_FLAG_NOCHECKRESP | (tcp ? ARES_FLAG_USEVC : ARES_FLAG_IGNTC);
  opts.ednspsz = kEdnsPayload;
  opts.timeout = static_cast<int>(std::max<long long>(1, options.timeout.count()));
  // One try per c-ares query: c-ares 1.18 doubles the timeout on every round of retries
  // (ares__send_query shifts it by try_count / nservers), which would break the promise of
  // "timeout × attempts". Retries are ours, each with exactly `timeout`.
  opts.tries = 1;
  const int mask = ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  ares_channel raw = nullptr;
  // With no explicit servers this reads /etc/resolv.conf: the system resolver.
  if (const int rc = ares_init_options(&raw, &opts, mask); rc != ARES_SUCCESS) {
    throw std::runtime_error("cannot set up a DNS resolver (c-ares): " +
                             std::string(ares_strerror(rc)));
  }
  Channel channel(raw);
  if (resolver.address) {
    ares_addr_port_node server{};
    if (inet_pton(AF_INET, resolver.address->c_str(), &server.addr.addr4) == 1) {
      server.family = AF_INET;
    } else if (inet_pton(AF_INET6, resolver.address->c_str(), &server.addr.addr6) == 1) {
      server.family = AF_INET6;
    } else {
      throw std::invalid_argument("not an IP address: " + *resolver.address);
    }
    server.udp_port = server.tcp_port = resolver.port;
    if (const int rc = ares_set_servers_ports(channel.get(), &server); rc != ARES_SUCCESS) {
      throw std::runtime_error("cannot use DNS resolver " + resolver.display() + ": " +
                               ares_strerror(rc));
    }
  }
  if (!tcp) ares_set_socket_configure_callback(channel.get(), configure_socket, nullptr);
  return channel;
}

std::string describe_deadline(const Options& options) {
  const int attempts = options.retries + 1;
  return "deadline " + format_duration(options.timeout) + " × " + std::to_string(attempts) +
         (attempts == 1 ? " attempt" : " attempts");
}

// One resolve_all() call: the queries, their answers, the two channels and the flow control.
//
// At most flow_.window() attempts are outstanding. A lost reply is noticed early, as TCP notices
// a lost segment: when replies came for kReorder queries sent after it and it has waited a
// smoothed round trip (an authoritative server answers one client's queries in order, so such a
// gap is a loss), or when it has waited longer than the adaptive retransmission timeout. It is
// then sent again at once instead of sitting out c-ares's full per-attempt timeout — what keeps
// a burst that overflowed a server's receive buffer from costing seconds (adnshost waits out
// its 2 s retry timer there). A recursive resolver may answer out of order (a cache miss behind
// hits): the price of a wrong guess is one duplicate query and a smaller window.
class Run {
 public:
  Run(const Resolver& resolver, const std::vector<Query>& queries, const Options& options)
      : resolver_(resolver), options_(options), flow_(options.max_in_flight) {
    answers_.reserve(queries.size());
    states_.resize(queries.size());
    for (std::size_t i = 0; i < queries.size(); ++i) {
      answers_.emplace_back().query = queries[i];
      enqueue(i, false);
    }
    udp_ = open_channel(resolver_, options_, false);
  }

  std::vector<Answer> run() {
    while (finished_ < answers_.size()) {
      if (failure_) std::rethrow_exception(failure_);
      if (silent_ > 0 && !replied_) throw unreachable();
      send_some();
      const auto now = Clock::now();
      expire(now);
      detect_losses(now);
      pump(next_wait());
    }
    if (failure_) std::rethrow_exception(failure_);
    if (silent_ > 0 && !replied_) throw unreachable();
    return std::move(answers_);
  }

 private:
  // One transmission of one query; what c-ares hands back to on_reply.
  struct Attempt {
    Run* run;
    std::size_t index;
    bool tcp;
    Clock::time_point sent_at;
    std::uint64_t seq;    // UDP send order
    int backoff;          // early retransmissions of this query before this one
    bool counted = true;  // still occupies a slot of the window
  };
  struct State {
    bool started = false;
    bool done = false;
    bool queued = false;   // waiting in ready_
    bool tcp = false;      // a truncated reply came: ask over TCP from now on
    int resent_early = 0;  // retransmissions before c-ares's timeout
    int tries_left = 0;    // c-ares timeouts still allowed
    Attempt* current = nullptr;
    Clock::time_point first_sent, deadline;
  };

  // Replies to this many later queries make a missing one lost (TCP's duplicate-ACK threshold).
  static constexpr std::uint64_t kReorder = 3;

  void enqueue(std::size_t i, bool first) {
    State& s = states_[i];
    if (s.queued || s.done) return;
    s.queued = true;
    if (first) {
      ready_.push_front(i);  // retries and TCP follow-ups go before queries not yet asked
    } else {
      ready_.push_back(i);
    }
  }

  // Pacing: sends are spread over the round trip (two windows per round trip, as Linux paces
  // TCP), in bursts of at most kSendBurst. Replies arrive in bursts, and a burst of sends passed
  // on as is can overflow the server's receive buffer even when the window would not. Before
  // the first round trip is measured, the fixed FlowControl::kInitialPace.
  Clock::duration send_interval() const {
    const auto srtt = flow_.srtt();
    return srtt ? *srtt / (2 * flow_.window()) : FlowControl::kInitialPace;
  }
  bool may_send(Clock::time_point now) const {
    return !ready_.empty() && in_flight_ < flow_.window() && next_send_ <= now;
  }

  void send_some() {
    const auto interval = send_interval();
    // Unused send credit does not pile up beyond one burst.
    next_send_ = std::max(next_send_, Clock::now() - interval * kSendBurst);
    for (int sent = 0; sent < kSendBurst && may_send(Clock::now());) {
      const std::size_t i = ready_.front();
      ready_.pop_front();
      states_[i].queued = false;
      if (states_[i].done) continue;  // given up at its deadline while waiting to be resent
      send(i);
      next_send_ += interval;
      ++sent;
    }
  }

  void send(std::size_t i) {
    State& s = states_[i];
    const auto now = Clock::now();
    if (!s.started) {
      s.started = true;
      s.first_sent = now;
      s.deadline = now + options_.timeout * (options_.retries + 1);
      s.tries_left = options_.retries + 1;
      by_deadline_.push_back(i);  // first sends happen in order, so deadlines are sorted
    }
    if (s.tcp && !tcp_) tcp_ = open_channel(resolver_, options_, true);
    Attempt& attempt =
        attempts_.emplace_back(Attempt{this, i, s.tcp, now, next_seq_++, s.resent_early});
    s.current = &attempt;
    if (!s.tcp) udp_outstanding_.push_back(&attempt);
    ++answers_[i].attempts;
    ++in_flight_;
    const Query& q = answers_[i].query;
    // May call on_reply before returning (a bad name, a socket that cannot be opened).
    ares_query(s.tcp ? tcp_.get() : udp_.get(), q.name.c_str(), 1 /* class IN */,
               wire::type_code(q.type), &Run::on_reply, &attempt);
  }

  void release(Attempt& attempt) {
    if (!attempt.counted) return;
    attempt.counted = false;
    --in_flight_;
  }

  // Our own backstop for "timeout × attempts": c-ares gives up per server, and the system
  // resolver may list several. A query given up here stays with c-ares until c-ares gives up
  // too; its late callback is ignored.
  void expire(Clock::time_point now) {
    while (!by_deadline_.empty()) {
      const std::size_t i = by_deadline_.front();
      State& s = states_[i];
      if (!s.done && s.deadline > now) break;
      by_deadline_.pop_front();
      if (s.done) continue;
      if (s.current) {
        release(*s.current);
        flow_.lost(s.current->sent_at, now);
      }
      finish_silent(i, no_reply());
    }
  }

  // The retransmission timeout, never beyond c-ares's own per-attempt timeout.
  std::optional<Clock::duration> rto() const {
    const auto rto = flow_.rto();
    if (!rto) return std::nullopt;
    return std::min<Clock::duration>(*rto, options_.timeout);
  }

  // Presumes lost the UDP attempts that replies to later queries overtook, or that outlived the
  // RTO (doubled per earlier early retransmission of the same query, RFC 6298 §5.5, so a server
  // that is merely slow for one name is not flooded). They are sent again at once and leave the
  // window; if the original reply was only late, whichever comes first is taken. Also notes
  // when the next attempt would become due, for next_wait().
  void detect_losses(Clock::time_point now) {
    next_check_.reset();
    const auto timeout = rto();
    if (!timeout) return;  // nothing answered yet: c-ares's timeout alone decides
    const Clock::duration srtt = *flow_.srtt();
    std::erase_if(udp_outstanding_, [&](Attempt* a) {
      const State& s = states_[a->index];
      if (!a->counted || s.done || s.current != a) return true;  // answered or superseded
      const bool overtaken = highest_answered_ && *highest_answered_ >= a->seq + kReorder;
      const auto patience = *timeout * (1 << std::min(a->backoff, 10));
      if ((overtaken && now - a->sent_at >= srtt) || now - a->sent_at >= patience) {
        presume_lost(*a, now);
        return true;
      }
      const auto due = a->sent_at + (overtaken ? srtt : patience);
      if (!next_check_ || due < *next_check_) next_check_ = due;
      return false;
    });
  }

  void presume_lost(Attempt& a, Clock::time_point now) {
    release(a);
    flow_.lost(a.sent_at, now);
    ++states_[a.index].resent_early;
    enqueue(a.index, true);
  }

  double next_wait() const {  // seconds
    const auto now = Clock::now();
    if (may_send(now)) return 0;
    auto until = now + std::chrono::seconds(1);
    if (!ready_.empty() && in_flight_ < flow_.window()) until = next_send_;
    for (ares_channel ch : {udp_.get(), tcp_.get()}) {
      if (!ch) continue;
      timeval limit{1, 0}, tv{};
      const timeval* t = ares_timeout(ch, &limit, &tv);
      until = std::min(
          until, now + std::chrono::seconds(t->tv_sec) + std::chrono::microseconds(t->tv_usec));
    }
    if (!by_deadline_.empty()) until = std::min(until, states_[by_deadline_.front()].deadline);
    if (next_check_) until = std::min(until, *next_check_);
    return std::max(0.0, std::chrono::duration<double>(until - now).count());
  }

  // Waits up to `seconds` for socket activity, then lets c-ares read, write and time out.
  void pump(double seconds) {
    std::array<pollfd, 2 * ARES_GETSOCK_MAXNUM> fds{};
    std::array<ares_channel, 2 * ARES_GETSOCK_MAXNUM> owners{};
    nfds_t n = 0;
    for (ares_channel ch : {udp_.get(), tcp_.get()}) {
      if (!ch) continue;
      std::array<ares_socket_t, ARES_GETSOCK_MAXNUM> socks{};
      const int bits = ares_getsock(ch, socks.data(), ARES_GETSOCK_MAXNUM);
      for (int k = 0; k < ARES_GETSOCK_MAXNUM; ++k) {
        short events = 0;
        if (ARES_GETSOCK_READABLE(bits, k)) events |= POLLIN;
        if (ARES_GETSOCK_WRITABLE(bits, k)) events |= POLLOUT;
        if (!events) continue;
        fds[n] = pollfd{socks[k], events, 0};
        owners[n++] = ch;
      }
    }
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(seconds));
    const timespec ts{static_cast<time_t>(ns.count() / 1'000'000'000),
                      static_cast<long>(ns.count() % 1'000'000'000)};
    // EINTR (a signal) needs nothing special: the loop comes straight back here.
    const int ready = ppoll(fds.data(), n, &ts, nullptr);
    for (nfds_t k = 0; ready > 0 && k < n; ++k) {
      if (!fds[k].revents) continue;
      const bool in = fds[k].revents & (POLLIN | POLLERR | POLLHUP);
      const bool out = fds[k].revents & POLLOUT;
      ares_process_fd(owners[k], in ? fds[k].fd : ARES_SOCKET_BAD,
                      out ? fds[k].fd : ARES_SOCKET_BAD);
    }
    // Timeouts; cheap when none are due.
    for (ares_channel ch : {udp_.get(), tcp_.get()}) {
      if (ch) ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    }
  }

  static void on_reply(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
    // Inside ares_destroy (the Run is going away): nothing left to record.
    if (status == ARES_EDESTRUCTION) return;
    auto* attempt = static_cast<Attempt*>(arg);
    Run& run = *attempt->run;
    // Nothing may unwind through c-ares's C frames: keep the first error for run() to rethrow.
    try {
      run.handle(*attempt, status, abuf, alen);
    } catch (...) {
      if (!run.failure_) run.failure_ = std::current_exception();
    }
  }

  void handle(Attempt& attempt, int status, const unsigned char* abuf, int alen) {
    release(attempt);
    const std::size_t i = attempt.index;
    State& s = states_[i];
    const auto now = Clock::now();
    const bool reply = abuf && alen > 0;
    if (reply && !attempt.tcp) {
      highest_answered_ = std::max(highest_answered_.value_or(0), attempt.seq);
    }
    if (s.done) return;  // answered by another attempt, or given up at its deadline
    // ares_query turns NXDOMAIN and friends into error statuses but still passes the reply:
    // whenever there is one, read the RCODE ourselves. A reply to any attempt will do.
    if (reply) {
      replied_ = true;
      // Karn's rule: only a query sent once gives an unambiguous round-trip time.
      flow_.replied(!attempt.tcp && answers_[i].attempts == 1
                        ? std::optional<Clock::duration>(now - attempt.sent_at)
                        : std::nullopt,
                    in_flight_ + 1);  // release() above already took this attempt out
      wire::Reply parsed;
      try {
        parsed = wire::parse_reply({abuf, static_cast<std::size_t>(alen)}, answers_[i].query.type);
      } catch (const wire::MalformedReply& e) {
        finish(i, Status::kError, std::string("malformed reply: ") + e.what());
        return;
      }
      if (parsed.truncated) {
        if (attempt.tcp) {
          finish(i, Status::kError, "reply truncated even over TCP");
        } else if (!s.tcp) {  // else a duplicate UDP reply: TCP is already on its way
          s.tcp = true;
          answers_[i].via_tcp = true;
          enqueue(i, true);
        }
        return;
      }
      take(i, std::move(parsed));
      return;
    }
    // A failed attempt that a newer one replaced (an early retransmission) changes nothing.
    if (s.current != &attempt) return;
    switch (status) {
      case ARES_ETIMEOUT:
      case ARES_ECONNREFUSED:  // ICMP port unreachable, or a TCP connection refused or reset
        if (status == ARES_ETIMEOUT) flow_.lost(attempt.sent_at, now);
        if (--s.tries_left > 0 && now < s.deadline) {
          enqueue(i, true);
        } else if (status == ARES_ETIMEOUT) {
          finish_silent(i, no_reply());
        } else {
          refused_ = true;
          finish_silent(i, resolver_.display() + " refused the connection (" +
                               std::to_string(answers_[i].attempts) + " attempts)");
        }
        return;
      default:  // a bad name, out of memory, …: c-ares's own words
        finish(i, Status::kError, ares_strerror(status));
    }
  }

  void take(std::size_t i, wire::Reply reply) {
    Answer& a = answers_[i];
    switch (reply.rcode) {
      case wire::kNoError:
        a.records = std::move(reply.records);
        finish(i, a.records.empty() ? Status::kNoData : Status::kAnswer, "");
        return;
      case wire::kNxDomain:
        finish(i, Status::kNxDomain, "");
        return;
      case wire::kServFail:
        finish(i, Status::kServFail, "");
        return;
      case wire::kRefused:
        finish(i, Status::kRefused, "");
        return;
      default:
        finish(i, Status::kError, "the resolver answered " + wire::rcode_name(reply.rcode));
    }
  }

  void finish(std::size_t i, Status status, std::string error) {
    State& s = states_[i];
    Answer& a = answers_[i];
    s.done = true;
    a.status = status;
    a.error = std::move(error);
    a.elapsed_ms = std::chrono::duration<double, std::milli>(Clock::now() - s.first_sent).count();
    ++finished_;
  }
  // Ended without any reply: counts towards "the resolver is down".
  void finish_silent(std::size_t i, std::string error) {
    finish(i, Status::kTimeout, std::move(error));
    ++silent_;
  }

  std::string no_reply() const {
    return "no reply from " + resolver_.display() + " within " + describe_deadline(options_);
  }

  Unreachable unreachable() const {
    std::string who = resolver_.address ? "DNS resolver " + resolver_.display()
                                        : std::string("The system resolver");
    return Unreachable(who + " did not answer any of " + std::to_string(answers_.size()) +
                       " queries within " + describe_deadline(options_) +
                       (refused_ ? " (connection refused)" : "") +
                       ". Check that the resolver is up and reachable from this machine, or "
                       "raise timeout/retries in the environment file.");
  }

  const Resolver& resolver_;
  const Options& options_;
  FlowControl flow_;
  int in_flight_ = 0;
  std::vector<Answer> answers_;
  std::vector<State> states_;
  std::deque<Attempt> attempts_;          // every transmission; a deque keeps their addresses
  std::deque<std::size_t> ready_;         // queries to send
  std::deque<std::size_t> by_deadline_;   // started queries, earliest deadline first
  std::deque<Attempt*> udp_outstanding_;  // UDP attempts not yet answered or presumed lost
  std::uint64_t next_seq_ = 0;
  Clock::time_point next_send_{};
  std::optional<std::uint64_t> highest_answered_;  // seq of the latest-sent UDP attempt answered
  std::optional<Clock::time_point> next_check_;    // when detect_losses() has work next
  std::size_t finished_ = 0;
  std::size_t silent_ = 0;
  bool replied_ = false;
  bool refused_ = false;
  std::exception_ptr failure_;
  // Last, so they are destroyed first: ares_destroy calls back for queries still pending.
  Channel udp_;
  Channel tcp_;
};

}  // namespace

std::optional<RecordType> parse_record_type(std::string_view text) {
  for (const auto& [type, name] : kTypeNames) {
    if (text == name) return type;
  }
  return std::nullopt;
}

const char* to_string(RecordType type) {
  for (const auto& [t, name] : kTypeNames) {
    if (t == type) return name;
  }
  return "?";
}

const char* to_string(Status status) {
  for (const auto& [s, name] : kStatusNames) {
    if (s == status) return name;
  }
  return "?";
}

std::string Resolver::display() const {
  if (!address) return "the system resolver";
  const bool v6 = address->find(':') != std::string::npos;
  return (v6 ? "[" + *address + "]" : *address) + ":" + std::to_string(port);
}

std::optional<Resolver> parse_resolver(std::string_view text) {
  if (text == "system") return Resolver{"system", std::nullopt, 53};
  std::string_view host = text;
  std::optional<std::string_view> port_text;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':')) return std::nullopt;
      port_text = rest.substr(1);
    }
  } else if (const auto colon = text.find(':');
             colon != std::string_view::npos &&
             text.find(':', colon + 1) == std::string_view::npos) {
    host = text.substr(0, colon);  // a single colon: IPv4 with a port (bare IPv6 has several)
    port_text = text.substr(colon + 1);
  }
  std::uint16_t port = 53;
  if (port_text) {
    unsigned value = 0;
    const auto [end, ec] =
        std::from_chars(port_text->data(), port_text->data() + port_text->size(), value);
    if (ec != std::errc{} || end != port_text->data() + port_text->size() || value == 0 ||
        value > 65535) {
      return std::nullopt;
    }
    port = static_cast<std::uint16_t>(value);
  }
  // Canonical spelling (inet_ntop), so one resolver written two ways has one id.
  const std::string host_string(host);
  std::array<unsigned char, 16> binary{};
  std::array<char, INET6_ADDRSTRLEN> canonical{};
  for (const int family : {AF_INET, AF_INET6}) {
    if (inet_pton(family, host_string.c_str(), binary.data()) == 1) {
      inet_ntop(family, binary.data(), canonical.data(), canonical.size());
      std::string address = canonical.data();
      return Resolver{address + "_" + std::to_string(port), address, port};
    }
  }
  return std::nullopt;
}

std::vector<Answer> resolve_all(const Resolver& resolver, const std::vector<Query>& queries,
                                const Options& options) {
  if (queries.empty()) return {};
  return Run(resolver, queries, options).run();
}

nlohmann::json to_json(const Answer& answer) {
  nlohmann::json records = nlohmann::json::array();
  for (const Record& r : answer.records) {
    records.push_back(
        {{"name", r.name}, {"type", to_string(r.type)}, {"ttl", r.ttl}, {"data", r.data}});
  }
  return {{"query", {{"name", answer.query.name}, {"type", to_string(answer.query.type)}}},
          {"status", to_string(answer.status)},
          {"records", records},
          {"attempts", answer.attempts},
          {"elapsed_ms", answer.elapsed_ms},
          {"via_tcp", answer.via_tcp},
          {"error", answer.error}};
}

namespace {

RecordType record_type_from_json(const nlohmann::json& j) {
  const auto text = j.get<std::string>();
  if (auto type = parse_record_type(text)) return *type;
  throw std::invalid_argument("unknown DNS record type in a stored fact: " + text);
}

Status status_from_json(const nlohmann::json& j) {
  const auto text = j.get<std::string>();
  for (const auto& [status, name] : kStatusNames) {
    if (text == name) return status;
  }
  throw std::invalid_argument("unknown DNS status in a stored fact: " + text);
}

}  // namespace

Answer answer_from_json(const nlohmann::json& j) {
  Answer a;
  a.query.name = j.at("query").at("name").get<std::string>();
  a.query.type = record_type_from_json(j.at("query").at("type"));
  a.status = status_from_json(j.at("status"));
  for (const auto& r : j.at("records")) {
    a.records.push_back(Record{r.at("name").get<std::string>(), record_type_from_json(r.at("type")),
                               r.at("ttl").get<std::uint32_t>(), r.at("data").get<std::string>()});
  }
  a.attempts = j.at("attempts").get<int>();
  a.elapsed_ms = j.at("elapsed_ms").get<double>();
  a.via_tcp = j.at("via_tcp").get<bool>();
  a.error = j.at("error").get<std::string>();
  return a;
}

}  // namespace deploycheck::dns
