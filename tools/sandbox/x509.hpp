// Certificates for the sandbox, made with the OpenSSL 3 C API (no `openssl` command).
// issue_cert() takes a small spec so broken certificates (expired, self-signed, short-lived,
// wrong name) are one spec each.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tools/sandbox/openssl.hpp"

namespace deploycheck::sandbox {

using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509_free>>;

// The key of a new certificate: EC P-256 unless a module asks for RSA (the TLS endpoints serve
// an RSA-2048 leaf, and an RSA-1024 one for sandbox_broken).
enum class KeyKind { kEcP256, kRsa2048, kRsa1024 };

struct CertSpec {
  std::string common_name;
  KeyKind key = KeyKind::kEcP256;
  // Signed with SHA-1 instead of SHA-256: a weak signature, for sandbox_broken only.
  bool sha1_signature = false;
  std::vector<std::string> dns_names;     // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries
  bool is_ca = false;
  int path_length = -1;  // CA only; -1 = unlimited
  // Validity relative to now: backdated an hour by default so small clock skews do not matter;
  // a negative not_after makes an expired certificate.
  std::chrono::seconds not_before{-std::chrono::hours(1)};
  std::chrono::seconds not_after{std::chrono::hours(24 * 90)};
  // Signed certificate timestamps embedded in the certificate (RFC 6962 §3.3), from a sandbox
  // "log" key. Real SCT structures with real ECDSA signatures, but over no real log entry: no
  // public log knows them. deploycheck counts SCTs; it cannot verify them offline either.
  int embedded_scts = 0;
};

struct Issued {
  PkeyPtr key;
  X509Ptr cert;
};

// A fresh key of `spec.key` (EC P-256 by default: about 20x faster than RSA) and a certificate
// for it, signed with SHA-256 (SHA-1 if asked) by `issuer`, or self-signed when `issuer` is
// nullptr. Throws with OpenSSL's errors.
Issued issue_cert(const CertSpec& spec, const Issued* issuer);

// PEM files. Certificates are public (0644); keys are created 0600.
void write_certs_pem(const std::filesystem::path& path, const std::vector<const X509*>& certs);
void write_key_pem(const std::filesystem::path& path, const EVP_PKEY* key);
// A DER OCSP response (RFC 6960) saying `leaf` is good, signed by its issuer with SHA-256,
// valid from an hour ago for `valid_for`: what nginx's `ssl_stapling_file` staples.
std::string ocsp_good_response(const Issued& leaf, const Issued& issuer,
                               std::chrono::seconds valid_for);

// Reads back a certificate and its key (for modules that issue their own certificates).
Issued read_issued(const std::filesystem::path& cert_file, const std::filesystem::path& key_file);

}  // namespace deploycheck::sandbox
