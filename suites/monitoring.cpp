// Monitoring: the checklists' health-endpoint items (000 "Health Checks", 001 §17/§18, 002
// "Application Integration", 003 "Monitoring" and blue-green, 004 "Verification"). One HTTP gather
// per endpoint per run; every check below reads that one fact.
#include "matchers/http_matchers.hpp"
#include "probes/http/http_probe.hpp"
#include "probes/policy.hpp"
#include "runner/check.hpp"
#include "runner/gather.hpp"

namespace deploycheck {
namespace {

const std::vector<std::string> kHealthItems = {
    "000 Health Checks: Health check endpoint returns 200 OK",
    "001 17. Run Verification Script: All health checks passed",
    "001 18. Application Testing: Health endpoint responding",
    "002 Application Integration: API health endpoint returns 200 OK",
    "003 Monitoring: Health check endpoints tested",
    "003 Step 3: Blue-Green Deployment: Run health checks on blue environment",
    "004 Verification: Check health endpoints"};

// Judges the endpoint's fact, re-gathering while `eventually` allows, until `matcher` holds.
void expect_health(const std::string& key, const HttpMatcher& matcher) {
  auto fact = fact_when(
      key, [&](const Fact& f) { return matcher.Matches(http_response_from_json(f.data)); });
  if (fact) EXPECT_THAT(http_response_from_json(fact->data), matcher);
}

}  // namespace

DEPLOYCHECK_CHECKS(Monitoring) {
  if (!environment().monitoring) return;
  for (const auto& health : environment().monitoring->health) {
    const auto key = register_gather(GatherSpec{
        .probe = "HTTP",
        .target = "health_" + health.id,
        .suite = "Monitoring",
        .policy = health.policy,
        .phase = health.phase,
        .gatherer = [health](const Policy& policy) {
          HttpRequest request{.url = runtime_values().expand(health.url)};
          if (health.ca_file) request.ca_file = runtime_values().expand(*health.ca_file);
          // Messages and facts carry the printable form: a token in a URL stays ${TOKEN}.
          const std::string shown = runtime_values().display(health.url);
          auto result =
              with_policy(policy, shown, [&](Duration timeout) { return fetch(request, timeout); });
          result.value.url = shown;
          return std::pair{to_json(result.value), result.attempts};
        }});
    auto spec = [&](const char* name) {
      return CheckSpec{.suite = "Monitoring",
                       .name = name,
                       .target = health.id,
                       .phase = health.phase,
                       .severity = health.severity,
                       .checklist = kHealthItems,
                       .gathers = {key},
                       .budget = health.policy.budget()};
    };
    register_check(spec("HealthStatus"), [key, status = health.expect_status] {
      expect_health(key, ::testing::AllOf(IsTrusted(), HasStatus(status)));
    });
    if (health.body_contains) {
      register_check(spec("HealthBody"), [key, text = *health.body_contains] {
        expect_health(key, BodyContains(text));
      });
    }
    if (health.max_latency) {
      register_check(spec("HealthLatency"), [key, bound = *health.max_latency] {
        expect_health(key, RespondsWithin(bound));
      });
    }
  }
}

}  // namespace deploycheck
