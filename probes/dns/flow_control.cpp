#include "probes/dns/flow_control.hpp"

#include <algorithm>

namespace deploycheck::dns {

FlowControl::FlowControl(int max_in_flight)
    : max_window_(std::max(1, max_in_flight)), window_(max_window_), ssthresh_(max_window_) {}

int FlowControl::window() const {
  return std::max(1, static_cast<int>(window_));
}

void FlowControl::replied(std::optional<Clock::duration> rtt, int in_flight) {
  if (rtt) {
    min_rtt_ = min_rtt_ ? std::min(*min_rtt_, *rtt) : *rtt;
    if (!srtt_) {
      // The first round trip: what went out before it is the window the path has shown it
      // takes; slow start goes on from there.
      window_ = std::clamp<double>(in_flight, 1.0, window_);
      srtt_ = *rtt;
      rttvar_ = *rtt / 2;
    } else {
      const auto error = *srtt_ > *rtt ? *srtt_ - *rtt : *rtt - *srtt_;
      rttvar_ = (3 * rttvar_ + error) / 4;
      srtt_ = (7 * *srtt_ + *rtt) / 8;
    }
  }
  double step = window_ < ssthresh_ ? 1.0 : 1.0 / window_;
  if (srtt_ && srtt_->count() > 0) {
    // Vegas: of `window` queries per round trip, this many are waiting rather than travelling.
    const double queued = window_ * (1.0 - std::chrono::duration<double>(*min_rtt_).count() /
                                               std::chrono::duration<double>(*srtt_).count());
    // Too many: shrink towards kMaxQueued within about one round trip.
    if (queued > kMaxQueued) step = -std::min(1.0, (queued - kMaxQueued) / window_);
  }
  window_ = std::clamp(window_ + step, 1.0, max_window_);
}

void FlowControl::lost(Clock::time_point sent, Clock::time_point now) {
  if (sent < last_cut_) return;
  window_ = ssthresh_ = std::max(1.0, window_ / 2);
  last_cut_ = now;
}

std::optional<FlowControl::Clock::duration> FlowControl::rto() const {
  if (!srtt_) return std::nullopt;
  return std::max({kMinRto, 2 * *srtt_, *srtt_ + 4 * rttvar_});
}

}  // namespace deploycheck::dns
