// TLS: checklist 000 "SSL/TLS Certificate Setup" and "Security Verification", 001 "TLS
// certificates valid" / "TLS enforced for all endpoints", 002 "SSL/TLS enforced", 003 "SSL
// certificates valid for > 30 days". One OpenSSL probe per endpoint per run (Gather.TLS/<id>),
// plus one HTTPS and one HTTP request where HSTS or the redirect are checked; every check below
// judges those facts.
#include <algorithm>
#include <chrono>

#include "matchers/http_matchers.hpp"
#include "matchers/tls_grade.hpp"
#include "matchers/tls_matchers.hpp"
#include "probes/http/http_probe.hpp"
#include "probes/policy.hpp"
#include "probes/tls/tls_probe.hpp"
#include "runner/check.hpp"
#include "runner/connection_slots.hpp"
#include "runner/gather.hpp"

namespace deploycheck {
namespace {

const std::string kValid30 = "003 Configuration: SSL certificates valid for > 30 days";
const std::string kExpiry =
    "000 Certificate Requirements: Certificate expiration date verified (minimum 30 days validity)";
const std::string kChain = "000 Certificate Requirements: Certificate chain complete (root + intermediate)";
const std::string kChainValidated = "000 Certificate Installation: Certificate chain validated";
const std::string kCovers =
    "000 Certificate Requirements: Certificate covers all required domains (including wildcards if needed)";
const std::string kValid = "000 Certificate Requirements: Valid SSL/TLS certificate obtained";
const std::string kTls13 = "000 TLS Configuration Verification: TLS 1.3 enabled";
const std::string kOldDisabled = "000 TLS Configuration Verification: TLS 1.2 and below disabled";
const std::string kStrongCiphers = "000 TLS Configuration Verification: Strong cipher suites only";
const std::string kCt = "000 TLS Configuration Verification: Certificate transparency logged";
const std::string kHsts = "000 Certificate Installation: HSTS header configured";
const std::string kRedirect = "000 Certificate Installation: HTTPS redirect configured (HTTP -> HTTPS)";
const std::string kHttps = "000 Security Verification: HTTPS enforced on all endpoints";
const std::string kTls001 = "001 7. Dependencies: TLS certificates valid";
const std::string kEnforced001 = "001 10. Security: TLS enforced for all endpoints";
const std::string kTls004 = "004 Infrastructure: SSL/TLS certificates valid";

const std::string kGrade = "000 TLS Configuration Verification: SSL Labs grade A or higher";

const TlsConfig& config() { return *environment().tls; }

// The max-age of a response's first Strict-Transport-Security header, for the grade (HstsAtLeast
// judges the header itself, with every rule of RFC 6797).
std::optional<std::chrono::seconds> hsts_max_age(const HttpResponse& r) {
  const auto it = r.headers.find("strict-transport-security");
  if (it == r.headers.end()) return std::nullopt;
  const auto pos = it->second.find("max-age=");
  if (pos == std::string::npos) return std::nullopt;
  return std::chrono::seconds(std::atoll(it->second.c_str() + pos + 8));
}

std::uint16_t port_of(const Template& port) {
  const auto text = runtime_values().expand(port);
  const int n = std::atoi(text.c_str());
  if (n <= 0 || n > 65535) throw Unreachable("'" + text + "' is not a port number");
  return static_cast<std::uint16_t>(n);
}

tls::Endpoint endpoint_for(const TlsEndpointConfig& e) {
  tls::Endpoint endpoint{.id = e.id, .name = e.name, .port = port_of(e.port)};
  if (e.connect) endpoint.connect = runtime_values().expand(*e.connect);
  endpoint.sni = e.sni;
  if (e.ca_file) endpoint.ca_file = runtime_values().expand(*e.ca_file);
  endpoint.starttls = tls::starttls_from_string(e.starttls);
  return endpoint;
}

// The facts with the suites of forbidden protocols left out: those protocols are
// ProtocolsForbidden's concern, and judging their (necessarily CBC) suites again would report
// one defect twice.
tls::Facts without_forbidden_protocols(tls::Facts facts) {
  auto& suites = facts.accepted_ciphers;
  suites.erase(std::remove_if(suites.begin(), suites.end(),
                              [](const tls::CipherSuite& s) {
                                const auto& forbid = config().forbid_protocols;
                                return std::find(forbid.begin(), forbid.end(), s.protocol) != forbid.end();
                              }),
               suites.end());
  return facts;
}

void check_facts(const std::string& key, const std::function<void(const tls::Facts&)>& judge) {
  auto fact = need_fact(key);
  if (fact) judge(tls::facts_from_json(fact->data));
}

void check_http(const std::string& key, const HttpMatcher& matcher) {
  auto fact = need_fact(key);
  if (fact) EXPECT_THAT(http_response_from_json(fact->data), matcher);
}

std::string http_gather(const std::string& target, const Policy& policy, std::function<HttpRequest()> request) {
  return register_gather(GatherSpec{
      .probe = "HTTP", .target = target, .suite = "TLS", .policy = policy,
      .gatherer = [request](const Policy& p) {
        const HttpRequest r = request();
        auto result = with_policy(p, r.url, [&](Duration timeout) { return fetch(r, timeout); });
        return std::pair{to_json(result.value), result.attempts};
      }});
}

void register_endpoint(const TlsEndpointConfig& e) {
  const auto& cfg = config();
  const auto key = register_gather(GatherSpec{
      .probe = "TLS", .target = e.id, .suite = "TLS", .policy = cfg.policy,
      .gatherer = [e](const Policy& policy) {
        const auto endpoint = endpoint_for(e);
        // Slots for this endpoint's handshakes out of the run's budget, held while it probes.
        const auto slots = ConnectionSlots::take(FactStore::instance().run_dir(),
                                                 config().max_connections_per_host,
                                                 config().max_connections_per_run, policy.timeout);
        auto result = with_policy(policy, endpoint.display(), [&](Duration timeout) {
          return tls::probe(endpoint, tls::Options{.timeout = timeout,
                                                   .max_connections_per_host = slots.count()});
        });
        return std::pair{tls::to_json(result.value), result.attempts};
      }});
  CheckSpec spec{.suite = "TLS", .target = e.id, .severity = cfg.severity, .gathers = {key},
                 .budget = cfg.policy.budget()};
  auto add = [&](const char* name, std::vector<std::string> items, std::function<void()> body) {
    spec.name = name;
    spec.checklist = std::move(items);
    register_check(spec, std::move(body));
  };

  const auto which = cfg.earliest_in_chain ? Which::kEarliestInChain : Which::kLeaf;
  add("CertValidFor", {kExpiry, kValid30, kTls001, kTls004}, [key, days = cfg.min_days_valid, which] {
    check_facts(key, [&](const tls::Facts& f) { EXPECT_THAT(f, CertValidFor(std::chrono::days(days), which)); });
  });
  add("Chain", {kChain, kChainValidated, kValid, kTls001}, [key] {
    check_facts(key, [](const tls::Facts& f) { EXPECT_THAT(f, ::testing::AllOf(ChainComplete(), ChainVerifies())); });
  });
  add("CoversHost", {kCovers}, [key, e] {
    check_facts(key, [&](const tls::Facts& f) {
      EXPECT_THAT(f, CoversHost(e.name));
      for (const auto& name : e.names) EXPECT_THAT(f, CoversHost(name));
    });
  });
  if (!cfg.require_protocols.empty()) {
    add("ProtocolsRequired", {kTls13}, [key, required = cfg.require_protocols] {
      check_facts(key, [&](const tls::Facts& f) {
        for (const auto& p : required) EXPECT_THAT(f, AcceptsProtocol(p));
      });
    });
  }
  if (!cfg.forbid_protocols.empty()) {
    add("ProtocolsForbidden", {kOldDisabled}, [key, forbidden = cfg.forbid_protocols] {
      check_facts(key, [&](const tls::Facts& f) {
        for (const auto& p : forbidden) EXPECT_THAT(f, RejectsProtocol(p));
      });
    });
  }
  if (cfg.strong_ciphers) {
    add("StrongCiphers", {kStrongCiphers}, [key] {
      check_facts(key, [](const tls::Facts& f) { EXPECT_THAT(without_forbidden_protocols(f), OnlyStrongCiphers()); });
    });
  }
  add("KeyStrength", {kValid}, [key, rsa = cfg.rsa_min_bits, ec = cfg.ec_min_bits] {
    check_facts(key, [&](const tls::Facts& f) { EXPECT_THAT(f, KeyAtLeast(rsa, ec)); });
  });
  add("SignatureNotSha1", {kValid}, [key] {
    check_facts(key, [](const tls::Facts& f) { EXPECT_THAT(f, SignatureNotSha1()); });
  });
  if (e.scts.value_or(cfg.require_scts)) {
    add("Scts", {kCt}, [key] { check_facts(key, [](const tls::Facts& f) { EXPECT_THAT(f, HasScts()); }); });
  }
  if (e.ocsp_stapling.value_or(cfg.require_ocsp_stapling)) {
    add("OcspStapled", {}, [key] { check_facts(key, [](const tls::Facts& f) { EXPECT_THAT(f, OcspStapled()); }); });
  }

  const auto grade = e.grade ? e.grade : cfg.grade;
  if (!e.starttls.empty()) {
    // A database or mail endpoint: no HTTP, so no HSTS, redirect, or HSTS part of the grade.
    if (grade) {
      add("Grade", {kGrade}, [key, letter = *grade] {
        check_facts(key, [&](const tls::Facts& f) {
          EXPECT_THAT((tls::GradedFacts{f, std::nullopt}), GradeAtLeast(letter));
        });
      });
    }
    return;
  }
  if (cfg.hsts_min_max_age || grade) {
    const auto https = http_gather("https_" + e.id, cfg.policy, [e] {
      const auto endpoint = endpoint_for(e);
      // Unverified on purpose: the header is HSTS's question; trust is TLS.Chain's.
      return HttpRequest{.url = "https://" + e.name + ":" + std::to_string(endpoint.port) + "/",
                         .verify = false};
    });
    if (cfg.hsts_min_max_age) {
      spec.gathers = {https};
      add("Hsts", {kHsts}, [https, age = *cfg.hsts_min_max_age] {
        check_http(https, HstsAtLeast(std::chrono::duration_cast<std::chrono::seconds>(age)));
      });
    }
    if (grade) {
      spec.gathers = {key, https};
      add("Grade", {kGrade}, [key, https, letter = *grade] {
        auto tls_fact = need_fact(key);
        auto http_fact = need_fact(https);
        if (!tls_fact || !http_fact) return;
        EXPECT_THAT((tls::GradedFacts{tls::facts_from_json(tls_fact->data),
                                      hsts_max_age(http_response_from_json(http_fact->data))}),
                    GradeAtLeast(letter));
      });
    }
  }
  if (cfg.http_redirect && (e.http_port || e.port.raw == "443")) {
    const auto http = http_gather("http_" + e.id, cfg.policy, [e] {
      const auto port = e.http_port ? port_of(*e.http_port) : std::uint16_t{80};
      return HttpRequest{.url = "http://" + e.name + ":" + std::to_string(port) + "/"};
    });
    spec.gathers = {http};
    add("RedirectsToHttps", {kRedirect, kHttps, kEnforced001}, [http, name = e.name] {
      check_http(http, RedirectsToHttps("https://" + name));
    });
  }
}

}  // namespace

DEPLOYCHECK_CHECKS(TLS) {
  if (!environment().tls) return;
  for (const auto& e : config().endpoints) register_endpoint(e);
}

}  // namespace deploycheck
