// deploycheck-bench-tls: runs tls::probe (the default handshake plus the enumeration of
// protocols and cipher suites, exactly what the TLS suite gathers for one endpoint) once and
// prints how long it took:
//
//   elapsed 0.0123 s, 41 handshakes, localhost:8443 via 127.0.0.1
//
// With --print-verdicts it also prints what the endpoint accepts, sorted, one per line, in the
// form bench/tls_bench.sh compares with sslscan's output:
//
//   protocol TLSv1.2
//   protocol TLSv1.3
//   suite TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256
//   suite TLSv1.3 TLS_AES_256_GCM_SHA384
//
// Protocols are spelled as OpenSSL does (SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3) and suites
// by their OpenSSL names. Protocols the probe could not check are printed as
// `not-checked PROTOCOL reason`, and suites it could not check as `not-checked-suites reason`.
//
// usage: deploycheck-bench-tls --host NAME --port P [--connect IP] [--ca FILE]
//                              [--timeout-ms N] [--parallel N] [--print-verdicts]
//
// Exit status: 0 when the probe ran, 2 for a usage error, 3 when the endpoint is unreachable,
// 1 for anything else.
#include <charconv>
#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "probes/policy.hpp"
#include "probes/tls/tls_probe.hpp"

namespace {

namespace tls = deploycheck::tls;

constexpr std::string_view kUsage =
    "usage: deploycheck-bench-tls --host NAME --port P [--connect IP] [--ca FILE]\n"
    "                             [--timeout-ms N] [--parallel N] [--print-verdicts]\n"
    "  Runs the TLS probe (default handshake + protocol and cipher suite enumeration) once\n"
    "  and prints the elapsed time; --print-verdicts also prints the accepted protocols and\n"
    "  suites, sorted, one per line.\n";

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

long parse_long(std::string_view flag, std::string_view text, long min, long max) {
  long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
    throw UsageError(std::string(flag) + " expects an integer in " + std::to_string(min) + ".." +
                     std::to_string(max) + ", got '" + std::string(text) + "'");
  }
  return value;
}

struct Arguments {
  tls::Endpoint endpoint;
  tls::Options options;
  bool print_verdicts = false;
};

Arguments parse_arguments(int argc, char** argv) {
  Arguments args;
  args.endpoint.id = "bench";
  bool have_host = false, have_port = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (flag == "--print-verdicts") {
      args.print_verdicts = true;
      continue;
    }
    if (i + 1 >= argc) throw UsageError(std::string(flag) + " needs a value");
    const std::string_view value = argv[++i];
    if (flag == "--host") {
      args.endpoint.name = value;
      have_host = true;
    } else if (flag == "--port") {
      args.endpoint.port = static_cast<std::uint16_t>(parse_long(flag, value, 1, 65535));
      have_port = true;
    } else if (flag == "--connect") {
      args.endpoint.connect = std::string(value);
    } else if (flag == "--ca") {
      args.endpoint.ca_file = std::string(value);
    } else if (flag == "--timeout-ms") {
      args.options.timeout = deploycheck::Duration(parse_long(flag, value, 1, 600'000));
    } else if (flag == "--parallel") {
      args.options.max_connections_per_host = static_cast<int>(parse_long(flag, value, 1, 1024));
    } else {
      throw UsageError("unknown option " + std::string(flag));
    }
  }
  if (!have_host || !have_port) throw UsageError("--host and --port are required");
  return args;
}

void print_verdicts(const tls::Facts& facts) {
  std::set<std::string> lines;
  for (const tls::ProtocolSupport& p : facts.protocols) {
    switch (p.result) {
      case tls::ProtocolSupport::Result::kAccepted:
        lines.insert("protocol " + p.protocol);
        break;
      case tls::ProtocolSupport::Result::kNotChecked:
        lines.insert("not-checked " + p.protocol + " " + p.detail);
        break;
      case tls::ProtocolSupport::Result::kRejected:
        break;
    }
  }
  for (const tls::CipherSuite& c : facts.accepted_ciphers) {
    lines.insert("suite " + c.protocol + " " + c.name);
  }
  for (const std::string& why : facts.not_checked) lines.insert("not-checked-suites " + why);
  for (const std::string& line : lines) std::cout << line << '\n';
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Arguments args = parse_arguments(argc, argv);
    const auto start = std::chrono::steady_clock::now();
    const tls::Facts facts = tls::probe(args.endpoint, args.options);
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (args.print_verdicts) print_verdicts(facts);
    std::cout.flush();
    std::fprintf(stderr, "elapsed %.4f s, %d handshakes, %s\n", elapsed, facts.handshakes,
                 args.endpoint.display().c_str());
    return 0;
  } catch (const UsageError& e) {
    std::cerr << "deploycheck-bench-tls: " << e.what() << '\n' << kUsage;
    return 2;
  } catch (const deploycheck::Unreachable& e) {
    std::cerr << "deploycheck-bench-tls: unreachable: " << e.what() << '\n';
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "deploycheck-bench-tls: " << e.what() << '\n';
    return 1;
  }
}
