// Smoke: the checklists' post-deploy verification of the running application — 000 "Smoke
// Tests" and "Security Verification", 001 §18 "Application Testing", 002 "Application
// Integration" (register → login → GET /api/v1/users/me), 003 blue-green smoke tests, response
// times and "API rate limits configured" / "CORS settings reviewed", 004 "Verification".
//
// Each configured request, path or flow is gathered once per run (Gather.HTTP/smoke_<id>,
// Gather.SmokeFlow/<id>); every check below judges those facts. A flow runs inside its gather,
// because later steps need what earlier ones answered (a token); captured values are masked
// before anything is stored, and the cleanup steps always run.
#include <algorithm>
#include <cmath>

#include "matchers/http_matchers.hpp"
#include "matchers/tls_matchers.hpp"
#include "probes/http/http_probe.hpp"
#include "probes/http/websocket.hpp"
#include "probes/policy.hpp"
#include "runner/check.hpp"
#include "runner/gather.hpp"

namespace deploycheck {
namespace {

using ::testing::AllOf;
using ::testing::Not;

const std::string kApi000 = "000 Smoke Tests: API endpoints responding correctly";
const std::string kAuth000 = "000 Smoke Tests: Authentication working";
const std::string kResponse000 =
    "000 Performance Verification: Response times within acceptable range";
const std::string kHttps000 = "000 Security Verification: HTTPS enforced on all endpoints";
const std::string kHeaders000 =
    "000 Security Verification: Security headers present (CSP, X-Frame-Options, etc.)";
const std::string kAuthRequired000 =
    "000 Security Verification: Authentication required for protected endpoints";
const std::string kRate000 = "000 Security Verification: Rate limiting active";
const std::string kApi001 = "001 18. Application Testing: API endpoints working";
const std::string kAuth001 = "001 18. Application Testing: Authentication working";
const std::string kSmoke001 = "001 17. Run Verification Script: All smoke tests passed";
const std::string kWs001 = "001 18. Application Testing: WebSocket connections working";
const std::string kResponse001 = "001 Daily Checks: Response time normal (< 500ms)";
const std::string kRegister002 = "002 Application Integration: User registration works";
const std::string kLogin002 = "002 Application Integration: User login works";
const std::string kCritical002 = "002 Application Integration: Critical API endpoints tested";
const std::string kRate003 = "003 Configuration: API rate limits configured";
const std::string kCors003 = "003 Configuration: CORS settings reviewed";
const std::string kBlue003 =
    "003 Step 3: Blue-Green Deployment: Execute smoke tests on blue environment";
const std::string kP95_003 = "003 Success Criteria: Response time p95 < 500ms";
const std::string kResponse003 = "003 Step 4: Monitoring (First 30 minutes): Check response times";
const std::string kLogin004 = "004 Verification: Login functionality works";
const std::string kWorkflows004 = "004 Verification: Critical user workflows tested";
const std::string kApi004 = "004 Verification: API endpoints responding correctly";
const std::string kWs004 = "004 Verification: WebSocket connections working (if applicable)";
const std::string kSmoke004 = "004 Immediate Actions: Smoke test critical features";
const std::string kRate004 = "004 Monitoring: Monitor API rate limits";

const SmokeConfig& config() {
  return *environment().smoke;
}

// `path` on the base URL, or `path` itself when it is already a URL.
std::string url_for(const std::string& path) {
  if (path.find("://") != std::string::npos) return path;
  std::string base = runtime_values().expand(config().base_url);
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + path;
}
std::string shown_url_for(const std::string& path) {
  if (path.find("://") != std::string::npos) return path;
  std::string base = runtime_values().display(config().base_url);
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + path;
}

HttpRequest base_request(const std::string& url) {
  HttpRequest r{.url = url};
  r.resolve = config().resolve;
  if (config().ca_file) r.ca_file = runtime_values().expand(*config().ca_file);
  return r;
}

// Replaces ${name} for every captured name, then resolves the rest as run-time values.
std::string fill(const std::string& text, const std::map<std::string, std::string>& captured) {
  std::string out = text;
  for (const auto& [name, value] : captured) {
    const std::string token = "${" + name + "}";
    for (auto pos = out.find(token); pos != std::string::npos;
         pos = out.find(token, pos + value.size())) {
      out.replace(pos, token.size(), value);
    }
  }
  return runtime_values().expand(Template{out});
}

nlohmann::json fill_json(const nlohmann::json& j,
                         const std::map<std::string, std::string>& captured) {
  if (j.is_string()) return fill(j.get<std::string>(), captured);
  if (j.is_structured()) {
    nlohmann::json out = j;
    for (auto& item : out) item = fill_json(item, captured);
    return out;
  }
  return j;
}

HttpRequest request_for(const SmokeRequestConfig& q,
                        const std::map<std::string, std::string>& captured) {
  HttpRequest r = base_request(url_for(fill(q.path.raw, captured)));
  r.method = q.method;
  for (const auto& [name, value] : q.headers)
    r.headers.emplace_back(name, fill(value.raw, captured));
  if (q.json) {
    r.body = fill_json(nlohmann::json::parse(*q.json), captured).dump();
    r.headers.emplace_back("Content-Type", "application/json");
  }
  return r;
}

// What a fact may hold of a response: the URL in its printable form and every captured value
// (a token) masked.
HttpResponse printable(HttpResponse r, const std::string& shown_url,
                       const std::map<std::string, std::string>& captured) {
  r.url = shown_url;
  r.final_url.clear();  // smoke requests never follow redirects: nothing else names the URL
  r.hops.clear();
  for (const auto& [name, value] : captured) {
    if (value.empty()) continue;
    for (auto pos = r.body.find(value); pos != std::string::npos; pos = r.body.find(value, pos)) {
      r.body.replace(pos, value.size(), "***");
    }
  }
  // A cookie's value may be a session: keep its name and attributes, which is all that is judged.
  for (auto it = r.headers.lower_bound("set-cookie"); it != r.headers.upper_bound("set-cookie");
       ++it) {
    const auto eq = it->second.find('=');
    const auto end = it->second.find(';');
    if (eq != std::string::npos && (end == std::string::npos || eq < end)) {
      it->second.replace(eq + 1, (end == std::string::npos ? it->second.size() : end) - eq - 1,
                         "***");
    }
  }
  return r;
}

// `shown_for` runs with the gather: registration (test discovery) reads no run-time values.
std::string gather_one(const std::string& target, const Policy& policy,
                       std::function<HttpRequest()> make, std::function<std::string()> shown_for) {
  return register_gather(GatherSpec{.probe = "HTTP",
                                    .target = "smoke_" + target,
                                    .suite = "Smoke",
                                    .policy = policy,
                                    .gatherer = [make, shown_for](const Policy& p) {
                                      const HttpRequest request = make();
                                      const std::string shown = shown_for();
                                      auto result = with_policy(p, shown, [&](Duration timeout) {
                                        return fetch(request, timeout);
                                      });
                                      result.value = printable(std::move(result.value), shown, {});
                                      return std::pair{to_json(result.value), result.attempts};
                                    }});
}

// Judges a response fact, re-gathering while `eventually` allows, until `matcher` holds.
void expect_http(const std::string& key, const HttpMatcher& matcher) {
  auto fact = fact_when(
      key, [&](const Fact& f) { return matcher.Matches(http_response_from_json(f.data)); });
  if (fact) EXPECT_THAT(http_response_from_json(fact->data), matcher);
}

bool writes(const SmokeRequestConfig& q) {
  return !is_read_only_method(q.method);
}
bool allowed_to_write(const std::string& id) {
  const auto& ids = config().allow_writes;
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}
std::string write_refusal(const std::string& id, const std::string& method) {
  return "not run: it sends " + method + ", and writes are not allowed for '" + id +
         "' (add it to smoke.allow_writes where this environment may gain data)";
}

std::vector<HttpMatcher> expectations(const SmokeRequestConfig& q) {
  std::vector<HttpMatcher> out;
  if (q.expect_status) out.push_back(HasStatus(*q.expect_status));
  // Expected values may name run-time values (an account's email), never captures.
  for (const auto& [pointer, value] : q.expect_json)
    out.push_back(JsonAt(pointer, JsonEq(fill_json(nlohmann::json::parse(value), {}))));
  if (q.body_contains) out.push_back(BodyContains(*q.body_contains));
  return out;
}

CheckSpec spec(const char* name, const std::string& target, std::vector<std::string> items,
               std::vector<std::string> gathers, Duration budget) {
  return CheckSpec{.suite = "Smoke",
                   .name = name,
                   .target = target,
                   .phase = Phase::kPost,
                   .severity = config().severity,
                   .checklist = std::move(items),
                   .gathers = std::move(gathers),
                   .budget = budget};
}

void register_request(const SmokeRequestConfig& q) {
  const std::vector<std::string> items{kApi000, kApi001, kApi004, kSmoke001, kSmoke004, kBlue003};
  if (writes(q) && !allowed_to_write(q.id)) {
    register_check(spec("Request", q.id, items, {}, Duration{1000}),
                   [reason = write_refusal(q.id, q.method)] { GTEST_SKIP() << reason; });
    return;
  }
  const auto key = gather_one(
      q.id, q.policy, [q] { return request_for(q, {}); },
      [q] { return shown_url_for(q.path.raw); });
  if (q.expect_status || !q.expect_json.empty() || q.body_contains) {
    register_check(spec("Request", q.id, items, {key}, q.policy.budget()), [key, q] {
      const auto matchers = expectations(q);  // may name run-time values: not at registration
      auto holds = [&](const HttpResponse& r) {
        return std::all_of(matchers.begin(), matchers.end(),
                           [&](const auto& m) { return m.Matches(r); });
      };
      auto fact =
          fact_when(key, [&](const Fact& f) { return holds(http_response_from_json(f.data)); });
      if (!fact) return;
      const auto response = http_response_from_json(fact->data);
      for (const auto& m : matchers) EXPECT_THAT(response, m);
    });
  }
  if (q.max_latency) {
    register_check(
        spec("Latency", q.id, {kResponse000, kResponse001, kResponse003}, {key}, q.policy.budget()),
        [key, bound = *q.max_latency] { expect_http(key, RespondsWithin(bound)); });
  }
}

// ---- flows ----------------------------------------------------------------------------------

struct StepRecord {
  std::optional<HttpResponse> response;
  std::string not_sent;  // why it was not sent (a capture an earlier step did not provide)
};

nlohmann::json to_json(const StepRecord& s) {
  if (s.response) return deploycheck::to_json(*s.response);
  return {{"not_sent", s.not_sent}};
}

StepRecord run_step(HttpSession& session, const SmokeRequestConfig& q, const Policy& policy,
                    std::map<std::string, std::string>& captured) {
  // A step naming a capture that is missing cannot be sent meaningfully.
  auto mentions_missing = [&](const std::string& text) -> std::optional<std::string> {
    for (std::size_t pos = text.find("${"); pos != std::string::npos;
         pos = text.find("${", pos + 2)) {
      const auto end = text.find('}', pos);
      if (end == std::string::npos) break;
      const std::string name = text.substr(pos + 2, end - pos - 2);
      if (captured.count(name) == 0 && !runtime_values().lookup(name)) return name;
    }
    return std::nullopt;
  };
  std::string all = q.path.raw + (q.json ? *q.json : "");
  for (const auto& [name, value] : q.headers) all += value.raw;
  if (const auto missing = mentions_missing(all)) {
    return {std::nullopt, "not sent: ${" + *missing + "} was not captured by an earlier step"};
  }
  const HttpRequest request = request_for(q, captured);
  const std::string shown = q.method + " " + shown_url_for(q.path.raw);
  HttpResponse response = with_policy(policy, shown, [&](Duration timeout) {
                            return session.fetch(request, timeout);
                          }).value;
  const auto body = nlohmann::json::parse(response.body, nullptr, false);
  for (const auto& [name, pointer] : q.capture) {
    const nlohmann::json::json_pointer p(pointer);
    if (!body.is_discarded() && body.contains(p)) {
      const auto& v = body.at(p);
      captured[name] = v.is_string() ? v.get<std::string>() : v.dump();
    }
  }
  return {printable(std::move(response), shown_url_for(q.path.raw), captured), ""};
}

// Runs every step, then every cleanup step (always). Unreachable in a step ends the steps, not
// the cleanup; the gather fails only when nothing could be reached.
std::pair<nlohmann::json, int> run_flow(const SmokeFlowConfig& flow, const Policy& policy) {
  // One session: the steps share connections (one round trip per step after the first).
  HttpSession session;
  std::map<std::string, std::string> captured;
  nlohmann::json steps = nlohmann::json::array(), cleanup = nlohmann::json::array();
  std::optional<std::string> unreachable;
  for (const auto& step : flow.steps) {
    if (unreachable) {
      steps.push_back({{"not_sent", "not sent: an earlier step got no answer"}});
      continue;
    }
    try {
      steps.push_back(to_json(run_step(session, step, policy, captured)));
    } catch (const Unreachable& e) {
      unreachable = e.what();
      steps.push_back({{"unreachable", e.what()}});
    }
  }
  for (const auto& step : flow.cleanup) {
    try {
      cleanup.push_back(to_json(run_step(session, step, policy, captured)));
    } catch (const Unreachable& e) {
      cleanup.push_back({{"unreachable", e.what()}});
    }
  }
  if (unreachable && steps.size() > 0 && steps.front().contains("unreachable"))
    throw Unreachable(*unreachable);
  return {{{"steps", steps}, {"cleanup", cleanup}}, 1};
}

void expect_steps(const nlohmann::json& records, const std::vector<SmokeRequestConfig>& steps,
                  const char* what) {
  for (std::size_t i = 0; i < steps.size() && i < records.size(); ++i) {
    const auto& record = records[i];
    const std::string label = std::string(what) + " " + std::to_string(i + 1) + " (" +
                              steps[i].method + " " + shown_url_for(steps[i].path.raw) + ")";
    if (record.contains("unreachable")) {
      ADD_FAILURE() << label << " got no answer: " << record["unreachable"].get<std::string>();
      continue;
    }
    if (record.contains("not_sent")) {
      ADD_FAILURE() << label << " was " << record["not_sent"].get<std::string>();
      continue;
    }
    const auto response = http_response_from_json(record);
    for (const auto& m : expectations(steps[i])) EXPECT_THAT(response, m) << label;
    if (steps[i].max_latency) EXPECT_THAT(response, RespondsWithin(*steps[i].max_latency)) << label;
  }
}

void register_flow(const SmokeFlowConfig& flow) {
  const std::vector<std::string> items{kRegister002, kLogin002, kCritical002,  kAuth000,
                                       kAuth001,     kLogin004, kWorkflows004, kSmoke004};
  std::optional<std::string> writer;
  for (const auto* list : {&flow.steps, &flow.cleanup}) {
    for (const auto& s : *list) {
      if (!writer && writes(s)) writer = s.method;
    }
  }
  if (writer && !allowed_to_write(flow.id)) {
    const auto reason = write_refusal(flow.id, *writer);
    register_check(spec("Flow", flow.id, items, {}, Duration{1000}),
                   [reason] { GTEST_SKIP() << reason; });
    if (!flow.cleanup.empty()) {
      register_check(spec("FlowCleanup", flow.id, items, {}, Duration{1000}), [id = flow.id] {
        GTEST_SKIP() << "not run: nothing to clean up, flow '" << id
                     << "' did not run (writes are not allowed for it)";
      });
    }
    return;
  }
  Policy policy = flow.steps.front().policy;
  policy.eventually = Duration{0};  // a flow that writes is run once per run, never repeated
  const auto key = register_gather(
      GatherSpec{.probe = "SmokeFlow",
                 .target = flow.id,
                 .suite = "Smoke",
                 .policy = policy,
                 .gatherer = [flow](const Policy& p) { return run_flow(flow, p); }});
  const Duration budget{policy.budget().count() *
                        static_cast<long>(flow.steps.size() + flow.cleanup.size())};
  register_check(spec("Flow", flow.id, items, {key}, budget), [key, flow] {
    if (auto fact = need_fact(key)) expect_steps(fact->data.at("steps"), flow.steps, "step");
  });
  if (!flow.cleanup.empty()) {
    register_check(spec("FlowCleanup", flow.id, items, {key}, budget), [key, flow] {
      if (auto fact = need_fact(key))
        expect_steps(fact->data.at("cleanup"), flow.cleanup, "cleanup step");
    });
  }
}

// ---- security -------------------------------------------------------------------------------

std::string path_id(const std::string& path) {
  std::string id = sanitize(path);
  id.erase(0, id.find_first_not_of('_'));
  while (!id.empty() && id.back() == '_') id.pop_back();
  return id.empty() ? "root" : id;
}

// "http://${HOST}/health" -> "/health", "http://api.example.com/x" -> "api.example.com/x": a
// test name from the file's own text, without the scheme and the ${...} it cannot resolve yet.
std::string without_variables(std::string text) {
  const auto scheme = text.find("://");
  if (scheme != std::string::npos) text.erase(0, scheme + 3);
  for (auto start = text.find("${"); start != std::string::npos; start = text.find("${")) {
    const auto end = text.find('}', start);
    text.erase(start, end == std::string::npos ? std::string::npos : end - start + 1);
  }
  return text;
}

void register_security() {
  const auto& c = config();
  if (c.security_headers) {
    for (const auto& path : c.security_headers->paths) {
      const auto id = path_id(path);
      const auto key = gather_one(
          "headers_" + id, c.policy, [path] { return base_request(url_for(path)); },
          [path] { return shown_url_for(path); });
      std::vector<HttpMatcher> required;
      for (const auto& name : c.security_headers->require) required.push_back(HasHeader(name));
      register_check(spec("SecurityHeaders", id, {kHeaders000}, {key}, c.policy.budget()),
                     [key, required] {
                       auto fact = need_fact(key);
                       if (!fact) return;
                       const auto response = http_response_from_json(fact->data);
                       for (const auto& m : required) EXPECT_THAT(response, m);
                     });
      if (c.security_headers->forbid_server_version) {
        register_check(spec("NoServerVersion", id, {kHeaders000}, {key}, c.policy.budget()), [key] {
          auto fact = need_fact(key);
          if (!fact) return;
          const auto response = http_response_from_json(fact->data);
          // "nginx" is fine; "nginx/1.22.1" tells an attacker which CVEs to try.
          if (response.header("server"))
            EXPECT_THAT(response, HasHeader("server", Not(::testing::ContainsRegex("[0-9]"))));
          EXPECT_THAT(response, LacksHeader("x-powered-by"));
        });
      }
    }
  }
  for (const auto& path : c.secure_cookies) {
    const auto id = path_id(path);
    const auto key = gather_one(
        "cookies_" + id, c.policy, [path] { return base_request(url_for(path)); },
        [path] { return shown_url_for(path); });
    register_check(spec("SecureCookies", id, {kHeaders000, kAuth000}, {key}, c.policy.budget()),
                   [key] { expect_http(key, SetsSecureCookie()); });
  }
  for (const auto& url : c.https_enforced) {
    // Named from the file's text: discovery reads no run-time values.
    const auto id = path_id(without_variables(url.raw));
    const auto key = gather_one(
        "http_" + id, c.policy, [url] { return base_request(runtime_values().expand(url)); },
        [url] { return runtime_values().display(url); });
    register_check(spec("HttpsEnforced", id, {kHttps000}, {key}, c.policy.budget()), [key, url] {
      // The same path, on the https base URL.
      const auto shown = runtime_values().display(url);
      const auto path_start = shown.find('/', shown.find("://") + 3);
      const std::string path = path_start == std::string::npos ? "/" : shown.substr(path_start);
      auto fact = need_fact(key);
      if (fact)
        EXPECT_THAT(http_response_from_json(fact->data), RedirectsToHttps(shown_url_for(path)));
    });
  }
  for (const auto& path : c.auth_required) {
    const auto id = path_id(path);
    const auto key = gather_one(
        "noauth_" + id, c.policy, [path] { return base_request(url_for(path)); },
        [path] { return shown_url_for(path); });
    register_check(spec("AuthRequired", id, {kAuthRequired000}, {key}, c.policy.budget()),
                   [key] { expect_http(key, RequiresAuthentication()); });
  }
}

// ---- rate limit, CORS, latency, WebSocket ---------------------------------------------------

void register_rate_limit(const SmokeRateLimitConfig& rl) {
  const auto& c = config();
  const auto key = register_gather(GatherSpec{
      .probe = "SmokeBurst",
      .target = "rate_limit",
      .suite = "Smoke",
      .policy = c.policy,
      .gatherer = [rl](const Policy& p) {
        HttpRequest r = base_request(url_for(runtime_values().expand(rl.path)));
        r.method = rl.method;
        if (rl.json) {
          r.body = fill_json(nlohmann::json::parse(*rl.json), {}).dump();
          r.headers.emplace_back("Content-Type", "application/json");
        }
        // The whole burst at once, on few connections: what a credential-stuffing bot does.
        const std::vector<HttpRequest> burst(static_cast<std::size_t>(rl.max_requests) + 1, r);
        nlohmann::json out = nlohmann::json::array();
        for (auto& outcome : fetch_many(burst, p.timeout, {.max_host_connections = 2})) {
          if (!outcome.response)
            throw Unreachable(runtime_values().display(rl.path) + ": " + outcome.error);
          HttpResponse response =
              printable(std::move(*outcome.response), shown_url_for(rl.path.raw), {});
          response.body = response.body.substr(0, 200);
          response.body =
              response.body.find("token") == std::string::npos ? response.body : "(withheld)";
          out.push_back(deploycheck::to_json(response));
        }
        return std::pair{out, 1};
      }});
  register_check(spec("RateLimited", sanitize(rl.account), {kRate000, kRate003, kRate004}, {key},
                      c.policy.budget()),
                 [key, within = static_cast<std::size_t>(rl.max_requests), account = rl.account] {
                   auto fact = need_fact(key);
                   if (!fact) return;
                   std::vector<HttpResponse> burst;
                   for (const auto& r : fact->data) burst.push_back(http_response_from_json(r));
                   EXPECT_THAT(burst, IsRateLimited(within))
                       << "burst as the dedicated account " << account;
                 });
}

void register_cors(const SmokeCorsConfig& cors) {
  const auto& c = config();
  auto preflight = [cors](const std::string& origin) {
    HttpRequest r = base_request(url_for(runtime_values().expand(cors.path)));
    r.method = "OPTIONS";
    r.headers = {{"Origin", origin}, {"Access-Control-Request-Method", cors.method}};
    return r;
  };
  const auto shown = [cors] { return shown_url_for(runtime_values().display(cors.path)); };
  const auto allowed = gather_one(
      "cors_allowed", c.policy, [=] { return preflight(cors.allowed_origin); }, shown);
  const auto other = gather_one(
      "cors_other", c.policy, [=] { return preflight(cors.other_origin); }, shown);
  register_check(
      spec("CorsAllowsOrigin", path_id(cors.path.raw), {kCors003}, {allowed}, c.policy.budget()),
      [allowed, origin = cors.allowed_origin] { expect_http(allowed, AllowsOrigin(origin)); });
  register_check(
      spec("CorsRejectsOtherOrigin", path_id(cors.path.raw), {kCors003}, {other},
           c.policy.budget()),
      [other, origin = cors.other_origin] { expect_http(other, RejectsOrigin(origin)); });
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank =
      static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

void register_latency(const SmokeLatencyConfig& l) {
  const auto& c = config();
  const auto key = register_gather(GatherSpec{
      .probe = "SmokeLatency",
      .target = path_id(l.path.raw),
      .suite = "Smoke",
      .policy = c.policy,
      .gatherer = [l](const Policy& p) {
        // One after another on one kept-alive connection: each sample is one request's latency.
        std::vector<HttpRequest> requests(static_cast<std::size_t>(l.samples),
                                          base_request(url_for(runtime_values().expand(l.path))));
        nlohmann::json totals = nlohmann::json::array();
        for (auto& outcome :
             fetch_many(requests, p.timeout, {.max_host_connections = 1, .max_in_flight = 1})) {
          if (!outcome.response)
            throw Unreachable(shown_url_for(l.path.raw) + ": " + outcome.error);
          totals.push_back(
              {{"status", outcome.response->status}, {"ms", outcome.response->timings.total}});
        }
        return std::pair{nlohmann::json{{"url", shown_url_for(l.path.raw)}, {"samples", totals}},
                         1};
      }});
  const Duration budget{c.policy.budget().count() * l.samples};
  register_check(spec("LatencyPercentiles", path_id(l.path.raw),
                      {kP95_003, kResponse000, kResponse001, kResponse003}, {key}, budget),
                 [key, l] {
                   auto fact = need_fact(key);
                   if (!fact) return;
                   std::vector<double> ms;
                   for (const auto& s : fact->data.at("samples"))
                     ms.push_back(s.at("ms").get<double>());
                   const double p50 = percentile(ms, 50), p95 = percentile(ms, 95);
                   const std::string seen = std::to_string(ms.size()) + " requests to " +
                                            fact->data.at("url").get<std::string>() + ": p50 " +
                                            std::to_string(static_cast<long>(p50)) + " ms, p95 " +
                                            std::to_string(static_cast<long>(p95)) + " ms";
                   EXPECT_LE(p50, static_cast<double>(l.p50.count()))
                       << seen << "; expected p50 within " << format_duration(l.p50);
                   EXPECT_LE(p95, static_cast<double>(l.p95.count()))
                       << seen << "; expected p95 within " << format_duration(l.p95)
                       << ". Look at the slowest endpoint's logs and the database's slow queries.";
                 });
}

void register_websocket(const SmokeWebSocketConfig& ws) {
  const auto& c = config();
  const auto key = register_gather(GatherSpec{
      .probe = "WebSocket",
      .target = "echo",
      .suite = "Smoke",
      .policy = c.policy,
      .gatherer = [ws](const Policy& p) {
        WebSocketRequest request{.url = runtime_values().expand(ws.url), .message = ws.message};
        if (config().ca_file) request.ca_file = runtime_values().expand(*config().ca_file);
        const auto shown = runtime_values().display(ws.url);
        auto result = with_policy(
            p, shown, [&](Duration timeout) { return websocket_echo(request, timeout); });
        result.value.url = shown;
        return std::pair{to_json(result.value), result.attempts};
      }});
  register_check(
      spec("WebSocketEcho", "echo", {kWs001, kWs004}, {key}, c.policy.budget()), [key, ws] {
        auto fact = need_fact(key);
        if (!fact) return;
        const auto echo = websocket_echo_from_json(fact->data);
        EXPECT_EQ(echo.status, 101) << "the upgrade of " << echo.url << " answered " << echo.status
                                    << " (expected 101 Switching Protocols): " << echo.error;
        EXPECT_EQ(echo.received, ws.message) << echo.url << " echoed something else after "
                                             << static_cast<long>(echo.round_trip_ms) << " ms";
      });
}

}  // namespace

DEPLOYCHECK_CHECKS(Smoke) {
  if (!environment().smoke) return;
  const auto& c = config();
  for (const auto& q : c.requests) register_request(q);
  for (const auto& f : c.flows) register_flow(f);
  register_security();
  if (c.rate_limit) register_rate_limit(*c.rate_limit);
  if (c.cors) register_cors(*c.cors);
  if (c.latency) register_latency(*c.latency);
  if (c.websocket) register_websocket(*c.websocket);
}

}  // namespace deploycheck
