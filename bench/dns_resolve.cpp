// deploycheck-bench-dns: resolves the A record of every name in a file with dns::resolve_all,
// the probe the DNS suite gathers with, and prints the answers in a form comparable with
// `dig +short NAME A`: one line per name, in the file's order, `name address…` (addresses as
// received). Timing and counts go to stderr:
//
//   resolved 1000 names in 0.0112 s against 127.0.0.1:5353: 1000 answers, 0 timeouts, ...
//
// usage: deploycheck-bench-dns --server IP:PORT --names FILE
//                              [--timeout-ms N] [--retries N] [--max-in-flight N]
//
// Exit status: 0 when it ran (the caller judges the counts), 2 for a usage error, 3 when the
// server answered nothing at all.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "probes/dns/dns_probe.hpp"
#include "probes/policy.hpp"

namespace {

namespace dns = deploycheck::dns;

constexpr std::string_view kUsage =
    "usage: deploycheck-bench-dns --server IP:PORT --names FILE [--timeout-ms N] [--retries N] "
    "[--max-in-flight N]\n"
    "  Resolves the A record of every name in FILE (one per line) and prints `name address...`\n"
    "  per name; timing, timeouts and retransmissions go to stderr.\n";

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Arguments {
  dns::Resolver server;
  std::string names_file;
  dns::Options options;
};

int parse_int(std::string_view flag, std::string_view text, int min) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < min) {
    throw UsageError(std::string(flag) + " expects an integer of at least " + std::to_string(min) +
                     ", got '" + std::string(text) + "'");
  }
  return value;
}

Arguments parse_arguments(int argc, char** argv) {
  Arguments args;
  std::optional<dns::Resolver> server;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (i + 1 >= argc) throw UsageError(std::string(flag) + " needs a value");
    const std::string_view value = argv[++i];
    if (flag == "--server") {
      server = dns::parse_resolver(value);
      if (!server || !server->address) {
        throw UsageError("--server expects IP:PORT (e.g. 127.0.0.1:5353), got '" +
                         std::string(value) + "'");
      }
    } else if (flag == "--names") {
      args.names_file = value;
    } else if (flag == "--timeout-ms") {
      args.options.timeout = deploycheck::Duration(parse_int(flag, value, 1));
    } else if (flag == "--retries") {
      args.options.retries = parse_int(flag, value, 0);
    } else if (flag == "--max-in-flight") {
      args.options.max_in_flight = parse_int(flag, value, 1);
    } else {
      throw UsageError("unknown option '" + std::string(flag) + "'");
    }
  }
  if (!server) throw UsageError("--server IP:PORT is required");
  if (args.names_file.empty()) throw UsageError("--names FILE is required");
  args.server = *server;
  return args;
}

std::vector<dns::Query> read_names(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError("cannot read the names file " + path);
  std::vector<dns::Query> queries;
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    const auto last = line.find_last_not_of(" \t\r");
    queries.push_back({line.substr(first, last - first + 1), dns::RecordType::kA});
  }
  if (queries.empty()) throw UsageError("the names file " + path + " holds no names");
  return queries;
}

// What the run cost and what came back, for stderr.
void report(const Arguments& args, const std::vector<dns::Answer>& answers, double seconds) {
  std::map<dns::Status, int> by_status;
  int attempts = 0, via_tcp = 0;
  double slowest_ms = 0;
  std::vector<double> elapsed;
  elapsed.reserve(answers.size());
  for (const dns::Answer& a : answers) {
    ++by_status[a.status];
    attempts += a.attempts;
    via_tcp += a.via_tcp ? 1 : 0;
    slowest_ms = std::max(slowest_ms, a.elapsed_ms);
    elapsed.push_back(a.elapsed_ms);
  }
  std::sort(elapsed.begin(), elapsed.end());
  const double median_ms = elapsed[elapsed.size() / 2];
  std::string others;
  for (const auto& [status, count] : by_status) {
    if (status == dns::Status::kAnswer || status == dns::Status::kTimeout) continue;
    others += ", " + std::to_string(count) + " " + dns::to_string(status);
  }
  const int timeouts = by_status[dns::Status::kTimeout];
  std::fprintf(stderr,
               "resolved %zu names in %.4f s against %s: %d answers, %d timeouts%s; %d attempts "
               "(%zu retransmissions), %d via TCP; per query median %.1f ms, slowest %.1f ms "
               "(timeout %lld ms, retries %d, max in flight %d)\n",
               answers.size(), seconds, args.server.display().c_str(),
               by_status[dns::Status::kAnswer], timeouts, others.c_str(), attempts,
               static_cast<std::size_t>(attempts) - answers.size(), via_tcp, median_ms, slowest_ms,
               static_cast<long long>(args.options.timeout.count()), args.options.retries,
               args.options.max_in_flight);
  std::fprintf(stderr, "timeouts: %d\n", timeouts);
  for (const dns::Answer& a : answers) {
    if (a.status == dns::Status::kAnswer) continue;
    std::fprintf(stderr, "  %s A: %s%s%s\n", a.query.name.c_str(), dns::to_string(a.status),
                 a.error.empty() ? "" : ": ", a.error.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Arguments args = parse_arguments(argc, argv);
    const std::vector<dns::Query> queries = read_names(args.names_file);

    const auto start = std::chrono::steady_clock::now();
    const std::vector<dns::Answer> answers = dns::resolve_all(args.server, queries, args.options);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    std::string out;
    out.reserve(answers.size() * 48);
    for (const dns::Answer& a : answers) {
      out += a.query.name;
      for (const dns::Record& r : a.records) out += " " + r.data;
      out += '\n';
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    report(args, answers, seconds);
    return 0;
  } catch (const UsageError& e) {
    std::cerr << "deploycheck-bench-dns: " << e.what() << "\n" << kUsage;
    return 2;
  } catch (const deploycheck::Unreachable& e) {
    std::cerr << "deploycheck-bench-dns: " << e.what() << "\n";
    return 3;
  } catch (const std::exception& e) {
    std::cerr << "deploycheck-bench-dns: " << e.what() << "\n";
    return 1;
  }
}
