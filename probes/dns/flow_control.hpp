#pragma once
// probes/dns/flow_control: how many queries may be outstanding at once, and how long an
// unanswered one may wait before it counts as lost. TCP's congestion control, applied to a
// stream of UDP queries to one resolver:
//
//  - the first round trip: nothing is known yet, so the whole of max_in_flight may go out, but
//    paced at kInitialPace by the caller. The first round trip measured cuts the window to what
//    was in flight by then — a few dozen on loopback, everything over a long path — and slow
//    start doubles it per round trip from there, up to max_in_flight;
//  - on loss, halve the window once per loss event (AIMD), then grow by one per round trip;
//  - never let more than about kMaxQueued queries wait in queues (TCP Vegas: the replies'
//    round-trip time above its minimum says how many are queued). A DNS server's UDP receive
//    buffer is a queue that drops when full — Linux's default 208 KiB holds about 250 small
//    queries — so a window kept by losses alone would keep filling it;
//  - round-trip time and retransmission timeout as in RFC 6298.
//
// Pure bookkeeping, no I/O: the caller reports replies and losses with their times.
#include <chrono>
#include <limits>
#include <optional>

namespace deploycheck::dns {

class FlowControl {
 public:
  using Clock = std::chrono::steady_clock;

  // How fast the first window goes out, before any round trip is measured: 50,000 queries/s.
  // A server that takes a few milliseconds to start reading (knot on a busy machine: ~4 ms)
  // then holds at most about 200 of them, within Linux's default 208 KiB receive buffer; a
  // 1,000-query window sent at once overflows it (what stalls adnshost on loopback).
  static constexpr Clock::duration kInitialPace = std::chrono::microseconds(20);
  // Queries allowed to wait in queues (the server's receive buffer, mostly) at once.
  static constexpr double kMaxQueued = 64;
  // The retransmission timeout never goes below this, nor below twice the smoothed round trip:
  // a reply that is merely late costs a duplicate query and a halved window.
  static constexpr Clock::duration kMinRto = std::chrono::milliseconds(50);

  explicit FlowControl(int max_in_flight);

  // Queries that may be outstanding now: at least 1, at most max_in_flight.
  int window() const;
  // A reply came. `rtt` only when it is unambiguous (the query was sent once: Karn's rule).
  // `in_flight`: queries outstanding when it came, itself included; the first round trip
  // measured cuts the window to it.
  void replied(std::optional<Clock::duration> rtt, int in_flight = std::numeric_limits<int>::max());
  // A query sent at `sent` is presumed lost at `now`. Losses of queries sent before the last
  // cut belong to the loss event already counted.
  void lost(Clock::time_point sent, Clock::time_point now);

  std::optional<Clock::duration> srtt() const { return srtt_; }
  // Nullopt until the first round-trip sample.
  std::optional<Clock::duration> rto() const;

 private:
  double max_window_;
  double window_;
  double ssthresh_;
  Clock::time_point last_cut_{};
  std::optional<Clock::duration> srtt_;
  std::optional<Clock::duration> min_rtt_;
  Clock::duration rttvar_{};
};

}  // namespace deploycheck::dns
