#pragma once
// probes/dns: DNS answers through c-ares, many queries in flight at once. Facts only: an
// NXDOMAIN or a SERVFAIL is an answer like any other; only a resolver that answers nothing at
// all makes resolve_all() throw Unreachable.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fixtures/units.hpp"

namespace deploycheck::dns {

enum class RecordType { kA, kAAAA, kCNAME, kMX, kTXT, kNS, kCAA, kSRV };
std::optional<RecordType> parse_record_type(std::string_view text);  // "A", "AAAA", … (upper case)
const char* to_string(RecordType type);

// What came back for one question.
enum class Status {
  kAnswer,    // NOERROR with records of the asked type (CNAME chains followed by the server)
  kNoData,    // NOERROR, the name exists, no records of that type
  kNxDomain,  // the name does not exist
  kServFail,
  kRefused,
  kTimeout,   // no reply within timeout × attempts
  kError,     // anything else (FORMERR, a malformed reply …): see `error`
};
const char* to_string(Status status);

struct Resolver {
  std::string id;                      // "system", or "127.0.0.1_5353" — used in test names
  std::optional<std::string> address;  // nullopt: the system resolver (/etc/resolv.conf)
  std::uint16_t port = 53;
  std::string display() const;         // "127.0.0.1:5353" or "the system resolver"
};
// "system", "192.0.2.53", "192.0.2.53:5353", "[2001:db8::53]:53". Nullopt if malformed.
std::optional<Resolver> parse_resolver(std::string_view text);

struct Record {
  std::string name;   // owner name as answered, no trailing dot, lower case
  RecordType type;
  std::uint32_t ttl = 0;
  // Canonical text, as dig +short prints it (without trailing dots on names):
  //   A/AAAA "192.0.2.1"; CNAME/NS "target.example.com"; MX "10 mail.example.com";
  //   TXT the character-strings of ONE record joined with no separator (as SPF/DKIM read it);
  //   CAA "0 issue \"letsencrypt.org\""; SRV "10 5 443 target.example.com".
  std::string data;
};

struct Query {
  std::string name;  // no trailing dot needed
  RecordType type;
};

struct Answer {
  Query query;
  Status status = Status::kTimeout;
  std::vector<Record> records;  // of the asked type only, in the order received
  int attempts = 0;
  double elapsed_ms = 0;
  bool via_tcp = false;         // the UDP reply was truncated and the query was retried over TCP
  std::string error;            // detail for kError / kTimeout
};

struct Options {
  Duration timeout{2000};       // per attempt
  int retries = 1;
  int max_in_flight = 1024;     // outstanding queries at once; lowered while replies are lost
};

// Resolves every query against one resolver, concurrently; answers in the order of `queries`.
// Throws Unreachable when not a single query got any reply (the resolver is down), naming the
// resolver, the deadline and the attempts.
std::vector<Answer> resolve_all(const Resolver& resolver, const std::vector<Query>& queries,
                                const Options& options);

nlohmann::json to_json(const Answer& answer);
Answer answer_from_json(const nlohmann::json& j);

}  // namespace deploycheck::dns
