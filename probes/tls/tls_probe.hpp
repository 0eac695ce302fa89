#pragma once
// probes/tls: what a TLS endpoint presents and accepts, gathered with OpenSSL 3 (no shelling
// out). Facts only; matchers/tls_matchers judge them.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fixtures/units.hpp"

namespace deploycheck::tls {

// A protocol that starts in plain text and upgrades to TLS on the same connection.
enum class StartTls { kNone, kPostgres, kSmtp };
const char* to_string(StartTls s);  // "", "postgres", "smtp"
StartTls starttls_from_string(const std::string& text);  // throws std::invalid_argument

struct Endpoint {
  std::string id;                      // test-name suffix
  std::string name;                    // host name: SNI (unless `sni`) and the name verified
  std::uint16_t port = 443;
  std::optional<std::string> connect;  // address to connect to instead of resolving `name`
  std::optional<std::string> sni;      // SNI to send, if not `name`
  std::optional<std::string> ca_file;  // PEM bundle to verify with; default: the system store
  StartTls starttls = StartTls::kNone; // upgrade from plain text first (database, mail)
  std::string display() const;         // "api.example.com:443" (+ " via 10.0.0.5")
};

struct Certificate {
  std::string subject;             // RFC 2253, e.g. "CN=api.example.com,O=Example"
  std::string issuer;
  std::vector<std::string> dns_names;  // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;
  std::int64_t not_before = 0;     // seconds since the epoch, UTC
  std::int64_t not_after = 0;
  std::string key_type;            // "RSA", "EC", "Ed25519", …
  int key_bits = 0;
  std::string signature_algorithm; // OpenSSL's long name, e.g. "sha256WithRSAEncryption"
  bool self_signed = false;
  bool is_ca = false;
  std::string sha256_fingerprint;  // hex
  int embedded_scts = 0;           // SCTs in the certificate's extension
};

struct Handshake {
  std::string protocol;            // "TLSv1.3"
  std::string cipher;              // OpenSSL name, e.g. "TLS_AES_256_GCM_SHA384"
  std::string alpn;                // "" when none was negotiated
  std::vector<Certificate> presented;  // as sent by the server, leaf first
  std::vector<Certificate> verified;   // the chain OpenSSL built, leaf to root (empty if failed)
  bool verified_ok = false;
  std::string verify_error;        // X509_verify_cert_error_string, when not ok
  bool hostname_matches = false;   // against `name` (or the IP for an IP endpoint)
  bool ocsp_stapled = false;
  std::string ocsp_status;         // "good", "revoked", "unknown", or "" when none stapled
  int tls_extension_scts = 0;      // SCTs sent in the TLS extension
};

enum class Strength { kStrong, kWeak, kInsecure };  // AEAD+PFS / CBC or no PFS / NULL, anon, export
const char* to_string(Strength s);

struct CipherSuite {
  std::string name;      // OpenSSL name
  std::string protocol;  // the protocol it was accepted under
  Strength strength = Strength::kStrong;
  std::string why;       // why it is weak or insecure ("CBC mode", "no forward secrecy", "NULL encryption")
};

struct ProtocolSupport {
  std::string protocol;  // "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"
  enum class Result { kAccepted, kRejected, kNotChecked } result = Result::kRejected;
  std::string detail;    // why not checked (this libssl cannot offer it), or the alert seen
};

struct Facts {
  Endpoint endpoint;
  Handshake handshake;                      // the default handshake (best protocol)
  std::vector<ProtocolSupport> protocols;   // every protocol, accepted/rejected/not checked
  std::vector<CipherSuite> accepted_ciphers;
  std::vector<std::string> not_checked;     // suites this libssl cannot offer, and why
  int handshakes = 0;                       // how many connections the enumeration made
  double elapsed_ms = 0;
};

struct Options {
  Duration timeout{5000};            // per handshake
  int max_connections_per_host = 16; // handshakes in parallel for one endpoint
  bool enumerate = true;             // protocols and cipher suites, not just the default handshake
};

// Throws Unreachable when the endpoint does not accept a TCP connection or complete any
// handshake within the deadline.
Facts probe(const Endpoint& endpoint, const Options& options);

nlohmann::json to_json(const Facts& facts);
Facts facts_from_json(const nlohmann::json& j);

}  // namespace deploycheck::tls
