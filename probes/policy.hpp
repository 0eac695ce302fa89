#pragma once
// The deadline-and-retry policy every probe runs under.
//
// A probe attempt either returns facts or throws Unreachable (the target did not answer:
// refused, timed out, reset). with_policy() retries with backoff inside the budget
// timeout × attempts — pauses are taken out of that budget, never added to it — and, when
// every attempt failed, throws Unreachable naming the target, the deadline and the attempts.
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "fixtures/environment.hpp"
#include "fixtures/units.hpp"

namespace deploycheck {

class Unreachable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The target answered, and its answer rules the check out: a mail server that offers no
// STARTTLS, a database with ssl = off. Asking again will not change it, so with_policy() does
// not retry; to the checks it is like Unreachable (their prerequisite failed, with this reason).
class Refused : public Unreachable {
 public:
  using Unreachable::Unreachable;
};

template <class T>
struct Attempted {
  T value;
  int attempts = 0;
};

using Clock = std::chrono::steady_clock;

std::string describe_policy(const Policy& policy);  // "deadline 2s × 3 attempts"

// `attempt(timeout)` must honour `timeout` for its own I/O.
template <class F>
auto with_policy(const Policy& policy, const std::string& target, F&& attempt)
    -> Attempted<decltype(attempt(Duration{}))> {
  const auto start = Clock::now();
  const auto deadline = start + policy.timeout * policy.attempts();
  Duration pause = policy.backoff;
  std::string last_error;
  for (int n = 1; n <= policy.attempts(); ++n) {
    const auto left = std::chrono::duration_cast<Duration>(deadline - Clock::now());
    if (left <= Duration::zero()) break;
    try {
      return {attempt(std::min(policy.timeout, left)), n};
    } catch (const Refused& e) {
      throw Refused(target + " answered, but " + e.what());
    } catch (const Unreachable& e) {
      last_error = e.what();
    }
    if (n == policy.attempts()) break;
    const auto remaining = std::chrono::duration_cast<Duration>(deadline - Clock::now());
    std::this_thread::sleep_for(std::min(pause, std::max(remaining, Duration::zero())));
    pause *= 2;
  }
  const auto took = std::chrono::duration_cast<Duration>(Clock::now() - start);
  throw Unreachable(target + " did not answer within " + describe_policy(policy) +
                    " (gave up after " + std::to_string(took.count()) + " ms): " + last_error +
                    ". Check that the service is up and reachable from this machine, or raise "
                    "timeout/retries in the environment file.");
}

}  // namespace deploycheck
