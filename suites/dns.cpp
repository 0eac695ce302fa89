// DNS: checklist 000 "DNS Configuration" (the records table, SPF/DKIM/DMARC, "DNS propagation
// complete (check with multiple DNS servers)"), 001 "DNS resolution working", 004 "DNS records
// updated". Each resolver is asked everything once per run (Gather.DNS/<resolver>), each mail
// domain's records and SPF tree once (Gather.Mail/<domain>); the checks judge those facts.
#include <map>
#include <set>

#include "matchers/dns_matchers.hpp"
#include "matchers/email_auth.hpp"
#include "probes/dns/dns_probe.hpp"
#include "probes/policy.hpp"
#include "runner/check.hpp"
#include "runner/gather.hpp"

namespace deploycheck {
namespace {

using dns::RecordType;

const std::string kResolves = "001 6. Cluster Health: DNS resolution working";
const std::string kUpdated = "004 Infrastructure: DNS records updated (if needed)";
const std::string kPropagated =
    "000 DNS Verification: DNS propagation complete (check with multiple DNS servers)";
const std::string kEmail = "000 DNS Verification: Email DNS records configured (SPF, DKIM, DMARC)";

const DnsConfig& config() { return *environment().dns; }

dns::Options probe_options(const Policy& policy) {
  return dns::Options{.timeout = policy.timeout, .retries = policy.retries,
                      .max_in_flight = config().max_in_flight};
}

// The resolver as configured, its ${VAR}s expanded at run time.
dns::Resolver resolver_for(const DnsResolverConfig& r) {
  const auto address = runtime_values().expand(r.address);
  auto resolver = dns::parse_resolver(address);
  if (!resolver) {
    throw Unreachable("'" + runtime_values().display(r.address) +
                      "' is not a resolver address (expected system, ip or ip:port)");
  }
  resolver->id = r.id;
  return *resolver;
}

const DnsResolverConfig& resolver_config(const std::string& id) {
  for (const auto& r : config().resolvers) {
    if (r.id == id) return r;
  }
  throw std::logic_error("no resolver " + id);  // the loader guarantees it exists
}

std::string query_key(const std::string& name, const std::string& type) { return type + " " + name; }

// One resolver's answers, as the fact Gather.DNS/<resolver> stored them.
struct ResolverFact {
  std::string display;
  std::map<std::string, dns::Answer> answers;  // by query_key
};

ResolverFact read_resolver_fact(const Fact& fact) {
  ResolverFact out{fact.data.at("resolver").get<std::string>(), {}};
  for (const auto& j : fact.data.at("answers")) {
    auto answer = dns::answer_from_json(j);
    out.answers[query_key(answer.query.name, dns::to_string(answer.query.type))] = answer;
  }
  return out;
}

std::optional<ResolvedAnswer> answer_from(const std::string& gather_key, const std::string& name,
                                          const std::string& type) {
  auto fact = need_fact(gather_key);
  if (!fact) return std::nullopt;
  auto resolved = read_resolver_fact(*fact);
  auto it = resolved.answers.find(query_key(name, type));
  if (it == resolved.answers.end()) {
    ADD_FAILURE() << "Gather." << gather_key << " has no answer for " << type << " " << name;
    return std::nullopt;
  }
  return ResolvedAnswer{resolved.display, it->second};
}

// What each resolver must be asked: its records, and the CAA names (asked of the first).
std::map<std::string, std::vector<dns::Query>> queries_by_resolver() {
  std::map<std::string, std::vector<dns::Query>> out;
  std::map<std::string, std::set<std::string>> seen;
  auto add = [&](const std::string& resolver, const std::string& name, const std::string& type) {
    if (seen[resolver].insert(query_key(name, type)).second) {
      out[resolver].push_back({name, *dns::parse_record_type(type)});
    }
  };
  for (const auto& record : config().records) {
    for (const auto& resolver : record.resolvers) add(resolver, record.name, record.type);
  }
  for (const auto& caa : config().caa) add(config().resolvers.front().id, caa.domain, "CAA");
  return out;
}

DnsMatcher record_matcher(const DnsRecordConfig& record) {
  const auto mode = record.exactly ? AddressMatch::kExactly : AddressMatch::kIncludes;
  if (record.type == "A" || record.type == "AAAA") return ResolvesTo(record.expect, mode);
  if (record.type == "CNAME" && record.expect.size() == 1) return IsAliasFor(record.expect.front());
  return AnswersWith(record.expect, mode);
}

void register_records(const std::map<std::string, std::string>& gather_of) {
  for (const auto& record : config().records) {
    const std::string first = gather_of.at(record.resolvers.front());
    CheckSpec spec{.suite = "DNS", .name = "Record", .target = record.id, .phase = record.phase,
                   .severity = record.severity, .checklist = {kResolves, kUpdated},
                   .gathers = {first}, .budget = config().policy.budget()};
    register_check(spec, [record, first] {
      auto answer = answer_from(first, record.name, record.type);
      if (!answer) return;
      if (!record.expect.empty()) EXPECT_THAT(*answer, record_matcher(record));
      if (record.matches) EXPECT_THAT(*answer, HasTxt(*record.matches));
    });

    if (record.ttl_max || record.ttl_min) {
      spec.name = "Ttl";
      register_check(spec, [record, first] {
        auto answer = answer_from(first, record.name, record.type);
        if (!answer) return;
        using std::chrono::duration_cast;
        using std::chrono::seconds;
        if (record.ttl_max) EXPECT_THAT(*answer, TtlAtMost(duration_cast<seconds>(*record.ttl_max)));
        if (record.ttl_min) EXPECT_THAT(*answer, TtlAtLeast(duration_cast<seconds>(*record.ttl_min)));
      });
    }

    if (record.resolvers.size() < 2) continue;
    std::vector<std::string> keys;
    for (const auto& r : record.resolvers) keys.push_back(gather_of.at(r));
    spec.name = "Propagated";
    spec.checklist = {kPropagated};
    spec.gathers = keys;
    register_check(spec, [record, keys] {
      std::vector<ResolvedAnswer> answers;
      for (const auto& key : keys) {
        auto answer = answer_from(key, record.name, record.type);
        if (!answer) return;
        answers.push_back(*answer);
      }
      EXPECT_THAT(answers, ConsistentAcross());
    });
  }
}

// SPF asks its questions one level at a time while it follows include:/redirect=; each goes
// to the same resolver under the same policy, answered once per name and type.
email::SpfLookup spf_lookup(const dns::Resolver& resolver, const dns::Options& options) {
  auto cache = std::make_shared<std::map<std::string, std::optional<std::vector<std::string>>>>();
  return [resolver, options, cache](const std::string& name, const char* type)
             -> std::optional<std::vector<std::string>> {
    const auto key = query_key(name, type);
    if (auto it = cache->find(key); it != cache->end()) return it->second;
    auto answers = dns::resolve_all(resolver, {{name, *dns::parse_record_type(type)}}, options);
    std::optional<std::vector<std::string>> result;
    const auto& a = answers.front();
    if (a.status == dns::Status::kAnswer) {
      result.emplace();
      for (const auto& r : a.records) result->push_back(r.data);
    } else if (a.status == dns::Status::kNoData || a.status == dns::Status::kNxDomain) {
      result.emplace();  // a void lookup
    }
    (*cache)[key] = result;
    return result;
  };
}

std::vector<std::string> texts(const dns::Answer& a) {
  std::vector<std::string> out;
  for (const auto& r : a.records) out.push_back(r.data);
  return out;
}

void register_mail_domain(const MailDomainConfig& mail) {
  const auto& resolver_cfg = resolver_config(*mail.resolver);
  const auto key = register_gather(GatherSpec{
      .probe = "Mail", .target = mail.domain, .suite = "DNS", .policy = config().policy,
      .gatherer = [mail, resolver_cfg](const Policy& policy) {
        const auto resolver = resolver_for(resolver_cfg);
        const auto options = probe_options(policy);
        std::vector<dns::Query> queries;
        if (mail.dmarc) queries.push_back({"_dmarc." + mail.domain, RecordType::kTXT});
        for (const auto& s : mail.dkim_selectors) {
          queries.push_back({s + "._domainkey." + mail.domain, RecordType::kTXT});
        }
        nlohmann::json fact{{"resolver", resolver.display()}};
        if (!queries.empty()) {
          auto answers = dns::resolve_all(resolver, queries, options);
          std::size_t i = 0;
          if (mail.dmarc) fact["dmarc"] = dns::to_json(answers[i++]);
          for (const auto& s : mail.dkim_selectors) fact["dkim"][s] = dns::to_json(answers[i++]);
        }
        if (mail.spf) {
          fact["spf"] = email::to_json(email::evaluate_spf(mail.domain, spf_lookup(resolver, options)));
        }
        return std::pair{fact, 1};
      }});

  const CheckSpec base{.suite = "DNS", .target = mail.domain, .severity = config().severity,
                       .checklist = {kEmail}, .gathers = {key}, .budget = config().policy.budget() * 4};
  if (mail.spf) {
    auto spec = base;
    spec.name = "Spf";
    register_check(spec, [key, policy = *mail.spf] {
      auto fact = need_fact(key);
      if (!fact) return;
      EXPECT_THAT(email::spf_result_from_json(fact->data.at("spf")),
                  SpfValid(SpfPolicy{.require_all = policy.all, .required_includes = policy.include}));
    });
  }
  if (mail.dmarc) {
    auto spec = base;
    spec.name = "Dmarc";
    register_check(spec, [key, domain = mail.domain, policy = *mail.dmarc] {
      auto fact = need_fact(key);
      if (!fact) return;
      const auto answer = dns::answer_from_json(fact->data.at("dmarc"));
      EXPECT_THAT(email::parse_dmarc(texts(answer), "_dmarc." + domain),
                  DmarcAtLeast(policy.policy, policy.require_rua));
    });
  }
  for (const auto& selector : mail.dkim_selectors) {
    auto spec = base;
    spec.name = "Dkim";
    spec.target = selector + "_" + mail.domain;
    register_check(spec, [key, selector, domain = mail.domain] {
      auto fact = need_fact(key);
      if (!fact) return;
      const auto answer = dns::answer_from_json(fact->data.at("dkim").at(selector));
      EXPECT_THAT(email::parse_dkim_records(selector + "._domainkey." + domain, texts(answer)),
                  DkimKeyValid());
    });
  }
}

}  // namespace

DEPLOYCHECK_CHECKS(DNS) {
  if (!environment().dns) return;
  std::map<std::string, std::string> gather_of;  // resolver id -> fact key
  for (const auto& [resolver_id, queries] : queries_by_resolver()) {
    const auto& resolver_cfg = resolver_config(resolver_id);
    gather_of[resolver_id] = register_gather(GatherSpec{
        .probe = "DNS", .target = resolver_id, .suite = "DNS", .policy = config().policy,
        .gatherer = [resolver_cfg, queries](const Policy& policy) {
          const auto resolver = resolver_for(resolver_cfg);
          const auto answers = dns::resolve_all(resolver, queries, probe_options(policy));
          nlohmann::json fact{{"resolver", resolver.display()}, {"answers", nlohmann::json::array()}};
          int attempts = 1;
          for (const auto& a : answers) {
            fact["answers"].push_back(dns::to_json(a));
            attempts = std::max(attempts, a.attempts);
          }
          return std::pair{fact, attempts};
        }});
  }
  register_records(gather_of);
  for (const auto& caa : config().caa) {
    const auto key = gather_of.at(config().resolvers.front().id);
    register_check(CheckSpec{.suite = "DNS", .name = "Caa", .target = caa.domain,
                             .severity = config().severity,
                             .checklist = {},  // no checklist asks for CAA; an SRE would
                             .gathers = {key}, .budget = config().policy.budget()},
                   [key, caa] {
                     auto answer = answer_from(key, caa.domain, "CAA");
                     if (!answer) return;
                     for (const auto& issuer : caa.issuers) EXPECT_THAT(*answer, HasCaa(issuer));
                   });
  }
  for (const auto& mail : config().mail_domains) register_mail_domain(mail);
}

}  // namespace deploycheck
