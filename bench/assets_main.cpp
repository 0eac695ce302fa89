// deploycheck-bench-assets: fetches a list of URLs the way the StaticAssets suite does (one
// fetch_many on libcurl's multi interface: HTTP/2 multiplexing where offered, a few connections
// per host), and prints one verdict line per URL ("<status> <url>", 0 for no answer) to the file
// given, and a summary to stderr.
//
//   deploycheck-bench-assets --list URLS.txt --out VERDICTS.txt [--ca CA.pem] [--method HEAD]
//                            [--connections N] [--timeout-ms N] [--in-flight N]
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "probes/http/http_probe.hpp"

int main(int argc, char** argv) {
  std::string list, out, ca, method = "HEAD";
  long connections = 6, timeout_ms = 10000, in_flight = 1024;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--list")
      list = value;
    else if (flag == "--out")
      out = value;
    else if (flag == "--ca")
      ca = value;
    else if (flag == "--method")
      method = value;
    else if (flag == "--connections")
      connections = std::stol(value);
    else if (flag == "--timeout-ms")
      timeout_ms = std::stol(value);
    else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }
  if (list.empty() || out.empty()) {
    std::cerr << "usage: deploycheck-bench-assets --list URLS.txt --out VERDICTS.txt [--ca CA] "
                 "[--method HEAD|GET] [--connections N] [--timeout-ms N]\n";
    return 2;
  }
  std::vector<deploycheck::HttpRequest> requests;
  std::ifstream in(list);
  for (std::string url; std::getline(in, url);) {
    if (url.empty()) continue;
    deploycheck::HttpRequest r{.url = url, .method = method};
    if (!ca.empty()) r.ca_file = ca;
    r.max_body = 0;
    requests.push_back(std::move(r));
  }
  const auto start = std::chrono::steady_clock::now();
  const auto outcomes = deploycheck::fetch_many(
      requests, deploycheck::Duration{timeout_ms},
      {.max_host_connections = connections, .max_in_flight = static_cast<std::size_t>(in_flight)});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::ofstream verdicts(out);
  std::size_t ok = 0, failed = 0;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const long status = outcomes[i].response ? outcomes[i].response->status : 0;
    (status == 200 ? ok : failed)++;
    verdicts << status << " " << requests[i].url << "\n";
  }
  std::cerr << requests.size() << " assets in " << seconds << " s: " << ok << " answered 200, "
            << failed << " did not\n";
  return 0;
}
