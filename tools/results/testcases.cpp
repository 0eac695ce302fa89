#include "tools/results/testcases.h"

#include <regex>

#include "tools/results/cli.h"

namespace deploycheck::results {

const char* to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::kPassed:
      return "passed";
    case Verdict::kFailed:
      return "failed";
    case Verdict::kNotRun:
      return "not run";
    case Verdict::kSkipped:
      return "skipped";
  }
  return "unknown";
}

pugi::xml_document load_xml(const std::filesystem::path& path) {
  pugi::xml_document doc;
  pugi::xml_parse_result parsed =
      doc.load_file(path.c_str(), pugi::parse_default | pugi::parse_declaration);
  if (!parsed) {
    throw InputError("cannot read XML file " + path.string() + ": " + parsed.description() +
                     " at byte " + std::to_string(parsed.offset));
  }
  return doc;
}

std::vector<pugi::xml_node> testsuites_of(const pugi::xml_document& doc) {
  std::vector<pugi::xml_node> suites;
  for (pugi::xml_node node : doc.children()) {
    if (std::string_view(node.name()) == "testsuite") suites.push_back(node);
    if (std::string_view(node.name()) == "testsuites") {
      for (pugi::xml_node suite : node.children("testsuite")) suites.push_back(suite);
    }
  }
  return suites;
}

CtestName split_ctest_name(std::string_view ctest_name) {
  CtestName name;
  std::string_view gtest = ctest_name;
  if (auto colon = ctest_name.find(':'); colon != std::string_view::npos) {
    name.environment = ctest_name.substr(0, colon);
    gtest = ctest_name.substr(colon + 1);
  }
  name.gtest_name = gtest;
  name.suite = gtest.substr(0, gtest.find('.'));
  return name;
}

std::string gtest_xml_file_name(std::string_view ctest_name) {
  std::string file(ctest_name);
  for (char& c : file) {
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '.' || c == '-';
    if (!keep) c = '_';
  }
  return file + ".xml";
}

bool is_ctest_skip_reason(std::string_view message) {
  return message.starts_with("SKIP_") || message == "Disabled";
}

Verdict classify(pugi::xml_node testcase) {
  std::string_view status = testcase.attribute("status").value();
  if (testcase.child("failure") || testcase.child("error")) {
    return status == "notrun" ? Verdict::kNotRun : Verdict::kFailed;
  }
  if (status == "fail") return Verdict::kFailed;
  if (pugi::xml_node skipped = testcase.child("skipped")) {
    bool never_started =
        status == "notrun" && !is_ctest_skip_reason(skipped.attribute("message").value());
    return never_started ? Verdict::kNotRun : Verdict::kSkipped;
  }
  if (status == "disabled" || status == "skipped") return Verdict::kSkipped;
  if (status == "notrun") return Verdict::kNotRun;
  return Verdict::kPassed;
}

std::string reason_of(pugi::xml_node testcase) {
  for (const char* element : {"failure", "error", "skipped"}) {
    if (pugi::xml_node node = testcase.child(element)) {
      std::string message = node.attribute("message").value();
      if (trim(message).empty()) message = node.text().get();
      if (std::string_view(element) == "skipped" &&
          std::string_view(testcase.attribute("status").value()) == "notrun" &&
          message == "Fixture dependency failed") {
        // An unmerged ctest JUnit: ctest names the failed prerequisites in its output.
        message = testcase.child("system-out").text().get();
      }
      return essence(message);
    }
  }
  if (std::string_view(testcase.attribute("status").value()) == "disabled") {
    return trim(testcase.child("system-out").text().get());
  }
  return "";
}

namespace {

bool is_gtest_location(std::string_view line) {
  static const std::regex kLocation(
      R"(unknown file|.+\.(c|cc|cpp|cxx|c\+\+|h|hh|hpp|hxx|inl|ipp|tcc)(:[0-9]+)?)");
  return std::regex_match(line.begin(), line.end(), kLocation);
}

}  // namespace

std::string essence(std::string_view message) {
  std::vector<std::string_view> lines = split_lines(message);
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (is_gtest_location(lines[i])) {
      if (i + 1 < lines.size() && lines[i + 1] == "Failed") ++i;
      continue;
    }
    if (!out.empty()) out += '\n';
    out += lines[i];
  }
  std::string kept = trim(out);
  return kept.empty() ? trim(message) : kept;
}

std::string property(pugi::xml_node testcase, std::string_view name) {
  for (pugi::xml_node prop : testcase.child("properties").children("property")) {
    if (name == prop.attribute("name").value()) return prop.attribute("value").value();
  }
  return "";
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (line.ends_with('\r')) line.remove_suffix(1);
    lines.push_back(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

std::string trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  std::size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return "";
  std::size_t last = text.find_last_not_of(kSpace);
  return std::string(text.substr(first, last - first + 1));
}

std::string tail_lines(std::string_view text, std::size_t count) {
  std::vector<std::string_view> kept;
  for (std::string_view line : split_lines(text)) {
    if (!trim(line).empty()) kept.push_back(line);
  }
  std::size_t first = kept.size() > count ? kept.size() - count : 0;
  std::string out;
  for (std::size_t i = first; i < kept.size(); ++i) {
    if (!out.empty()) out += '\n';
    out += kept[i];
  }
  return out;
}

}  // namespace deploycheck::results
