#pragma once
// Email authentication records understood, not regex-matched: SPF (RFC 7208), DMARC (RFC 7489)
// and DKIM keys (RFC 6376, RFC 8463). No I/O here: SPF evaluation asks a caller-supplied lookup
// for every DNS answer it needs, so the DNS suite resolves through its probe inside its gather
// and unit tests use an in-memory table.
//
//   auto spf = email::evaluate_spf("example.com", lookup);   // lookups counted, tree walked
//   auto dmarc = email::parse_dmarc(txt_at_dmarc, "example.com");
//   auto dkim = email::parse_dkim_records("s1._domainkey.example.com", txt_at_selector);
//
// Judging (is -all required? is 1024 bits enough?) is the matchers' job: dns_matchers.hpp.
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace deploycheck::email {

// ---- SPF (RFC 7208) ---------------------------------------------------------------------

struct SpfTerm {
  enum class Kind { kMechanism, kModifier };
  Kind kind = Kind::kMechanism;
  char qualifier = '+';  // mechanisms only: + - ~ ?
  std::string name;      // lower case: all include a mx ptr ip4 ip6 exists | redirect exp …
  std::string domain;    // domain-spec as written (may hold macros); "" when absent
  std::string network;   // ip4/ip6: the address part
  std::optional<int> cidr4, cidr6;  // a/mx dual-cidr-length; ip4 → cidr4, ip6 → cidr6
  std::string value;                // modifiers: the value after '='
  std::string text;                 // the term as written, without its qualifier
};

struct SpfRecord {
  std::vector<SpfTerm> terms;       // in record order
  std::vector<std::string> errors;  // syntax errors; any one makes the record a permerror
  bool ok() const { return errors.empty(); }
};

// "v=spf1" followed by a space or the end, case-insensitively (RFC 7208 §4.5): "v=spf10" is not.
bool is_spf_record(std::string_view txt);
SpfRecord parse_spf(std::string_view text);

// The TXT/A/AAAA/MX record data at `name` ("10 mail.example.com" for MX, one string per TXT
// record). An empty vector is NODATA or NXDOMAIN (a void lookup); nullopt means the lookup
// failed (timeout, SERVFAIL): SPF's temperror.
using SpfLookup = std::function<std::optional<std::vector<std::string>>(const std::string& name,
                                                                        const char* type)>;

// One SPF record visited while following include:/redirect=.
struct SpfNode {
  std::string domain;
  std::string via;  // "" for the domain itself, else "include" or "redirect"
  int depth = 0;    // 0 for the domain itself
  std::string record;
  int lookups = 0;  // DNS-querying terms in this record itself (not its includes)
};

struct SpfResult {
  std::string domain;
  std::vector<std::string> records;   // the v=spf1 records at `domain`; exactly one is valid
  int lookups = 0;                    // include a mx ptr exists redirect, whole tree (limit 10)
  int void_lookups = 0;               // answers with no records (limit 2)
  std::string all_qualifier;          // "-all" "~all" "?all" "+all", or "" when there is none
  std::vector<std::string> includes;  // every include: target in the tree, in evaluation order
  std::vector<SpfNode> tree;          // the SPF tree, pre-order (children follow their parent)
  std::vector<std::string> errors;    // human readable, each naming the RFC section and result
  std::vector<std::string> warnings;  // legal but worth knowing (ptr, terms after all …)

  int records_found() const { return static_cast<int>(records.size()); }
  bool ok() const { return errors.empty(); }
};

// Walks the SPF tree of `domain` as a receiver would in the worst case (no mechanism matches
// before "all"), counting DNS-querying terms and void lookups per RFC 7208 §4.6.4. Terms whose
// domain depends on the message (%{i}, %{s} …) are counted but not queried.
SpfResult evaluate_spf(const std::string& domain, const SpfLookup& lookup);

nlohmann::json to_json(const SpfResult& result);
SpfResult spf_result_from_json(const nlohmann::json& j);  // throws nlohmann::json::exception

// ---- DMARC (RFC 7489) -------------------------------------------------------------------

struct DmarcResult {
  std::string domain;                // the organisational domain (not _dmarc.), for messages
  std::vector<std::string> records;  // TXT records at _dmarc.<domain> starting v=DMARC1
  std::string policy;                // p: "none" "quarantine" "reject"; "" if missing/invalid
  std::string subdomain_policy;      // sp, or p when sp is absent
  int pct = 100;
  std::vector<std::string> rua, ruf;  // report URIs
  char adkim = 'r', aspf = 'r';       // alignment modes: r(elaxed) or s(trict)
  std::vector<std::string> errors;

  bool ok() const { return errors.empty(); }
};

// `records`: every TXT record at _dmarc.<domain>. Exactly one must start with v=DMARC1.
DmarcResult parse_dmarc(const std::vector<std::string>& records, std::string domain = {});

// 0 none, 1 quarantine, 2 reject; nullopt for anything else.
std::optional<int> dmarc_policy_strength(std::string_view policy);

// ---- DKIM (RFC 6376 §3.6.1, RFC 8463) -----------------------------------------------------

struct DkimKey {
  std::string name;      // <selector>._domainkey.<domain>, for messages; may be empty
  bool found = false;    // a TXT record was published at `name`
  std::string record;    // the record parsed
  std::string key_type;  // k=: "rsa" (the default) or "ed25519"
  bool revoked = false;  // p= is empty (RFC 6376 §3.6.1)
  int bits = 0;          // RSA modulus bits; 256 for Ed25519; 0 when unparseable
  std::vector<std::string> errors;
};

// One TXT record's text. The key in p= is decoded and parsed with OpenSSL.
DkimKey parse_dkim(std::string_view text);
// Every TXT record at `name`: none is "not published", more than one is an error.
DkimKey parse_dkim_records(std::string name, const std::vector<std::string>& records);

// Printed by gMock as the "Actual:" value.
void PrintTo(const SpfResult& r, std::ostream* os);
void PrintTo(const DmarcResult& r, std::ostream* os);
void PrintTo(const DkimKey& k, std::ostream* os);

}  // namespace deploycheck::email
