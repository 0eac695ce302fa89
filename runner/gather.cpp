#include "runner/gather.hpp"

#include <thread>

#include "probes/policy.hpp"

namespace deploycheck {

std::string register_gather(GatherSpec spec) {
  spec.target = sanitize(spec.target);
  const std::string key = spec.probe + "/" + spec.target;
  FactStore::instance().add_gatherer(key, spec.policy, std::move(spec.gatherer));
  CheckSpec check;
  check.suite = "Gather";
  check.name = spec.probe;
  check.target = spec.target;
  check.phase = spec.phase;
  check.severity = Severity::kCritical;
  check.budget = spec.policy.budget();
  check.serves = spec.suite;
  register_gather_test(check, [key] {
    const Fact fact = FactStore::instance().gather(key);
    ::testing::Test::RecordProperty("attempts", fact.attempts);
    if (fact.error) FAIL() << *fact.error;
  });
  return key;
}

std::optional<Fact> need_fact(const std::string& key) {
  Fact fact = FactStore::instance().get(key);
  ::testing::Test::RecordProperty("attempts", fact.attempts);
  if (fact.error) {
    ADD_FAILURE() << "not run: prerequisite Gather." << key << " failed: " << *fact.error;
    return std::nullopt;
  }
  return fact;
}

std::optional<Fact> fact_when(const std::string& key,
                              const std::function<bool(const Fact&)>& holds) {
  auto& store = FactStore::instance();
  const Policy& policy = store.policy(key);
  const auto give_up = Clock::now() + policy.eventually;
  Fact fact = store.get(key);
  int attempts = fact.attempts;
  while (!(fact.error == std::nullopt && holds(fact)) && Clock::now() + policy.backoff < give_up) {
    std::this_thread::sleep_for(policy.backoff);
    fact = store.regather(key, fact);
    attempts += fact.attempts;
  }
  ::testing::Test::RecordProperty("attempts", attempts);
  if (fact.error) {
    ADD_FAILURE() << "not run: prerequisite Gather." << key << " failed: " << *fact.error;
    return std::nullopt;
  }
  return fact;
}

}  // namespace deploycheck
