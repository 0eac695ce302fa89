// `deploycheck-results junit`: ctest's JUnit with each verdict's reason filled in
// from the check's own gtest XML.

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tools/results/cli.h"
#include "tools/results/commands.h"
#include "tools/results/testcases.h"

namespace deploycheck::results {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kOutputTailLines = 10;
constexpr int kMaxPrerequisiteDepth = 32;

// TESTNAME<TAB>setup-1;setup-2, as written by the CTest script.
using Fixtures = std::map<std::string, std::vector<std::string>, std::less<>>;

Fixtures read_fixtures(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw InputError("cannot open --fixtures file " + path.string());
  Fixtures fixtures;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (trim(line).empty() || line.starts_with('#')) continue;
    std::size_t tab = line.find('\t');
    if (tab == std::string::npos) {
      throw InputError(path.string() + ":" + std::to_string(number) +
                       ": expected TESTNAME<TAB>setup-test;setup-test, saw no tab");
    }
    std::vector<std::string>& required = fixtures[line.substr(0, tab)];
    std::stringstream list(line.substr(tab + 1));
    for (std::string name; std::getline(list, name, ';');) {
      if (!trim(name).empty()) required.push_back(trim(name));
    }
  }
  return fixtures;
}

// One check's gtest XML, if it exists and belongs to this ctest run.
struct GtestResult {
  fs::path path;
  pugi::xml_document doc;
  pugi::xml_node testcase;  // null if absent
  std::string problem;      // why there is no usable XML; empty if there is
};

GtestResult read_gtest_result(const fs::path& dir, std::string_view ctest_name,
                              std::string_view run_started) {
  GtestResult result;
  result.path = dir / gtest_xml_file_name(ctest_name);
  std::error_code error;
  if (!fs::exists(result.path, error)) {
    result.problem = "no gtest XML (" + result.path.string() + ")";
    return result;
  }
  pugi::xml_parse_result parsed = result.doc.load_file(result.path.c_str());
  if (!parsed) {
    result.problem = "unreadable gtest XML " + result.path.string() + " (" + parsed.description() +
                     " at byte " + std::to_string(parsed.offset) + ")";
    return result;
  }
  // ctest's timestamp is the start of its run, to the second; gtest's has milliseconds.
  // A file older than the run was left by an earlier run whose check wrote it; this
  // run's check died before writing its own.
  std::string written = result.doc.child("testsuites").attribute("timestamp").value();
  if (run_started.size() >= 19 && written.size() >= 19 &&
      written.substr(0, 19) < run_started.substr(0, 19)) {
    result.problem = "gtest XML " + result.path.string() + " is from an earlier run (written " +
                     written + ", this ctest run started " + std::string(run_started) + ")";
    result.doc.reset();
    return result;
  }
  std::string gtest_name = split_ctest_name(ctest_name).gtest_name;
  std::vector<pugi::xml_node> cases;
  for (pugi::xml_node suite : testsuites_of(result.doc)) {
    for (pugi::xml_node testcase : suite.children("testcase")) {
      if (std::string_view(testcase.attribute("name").value()).empty()) continue;  // ad hoc
      cases.push_back(testcase);
      std::string full =
          std::string(suite.attribute("name").value()) + "." + testcase.attribute("name").value();
      if (full == gtest_name) result.testcase = testcase;
    }
  }
  if (!result.testcase && cases.size() == 1) result.testcase = cases.front();
  return result;
}

struct Failures {
  std::string message;  // essence of each failure, one after another
  std::string text;     // gtest's full text of each failure
};

// The check's own failures first; if it has none, failures recorded outside any
// test in the same process (a global Environment, SetUpTestSuite).
Failures failures_in(const GtestResult& result) {
  Failures out;
  auto add = [&out](pugi::xml_node failure) {
    std::string text = failure.text().get();
    if (trim(text).empty()) text = failure.attribute("message").value();
    if (!out.message.empty()) out.message += "\n";
    out.message += essence(text);
    if (!out.text.empty()) out.text += "\n\n";
    out.text += text;
  };
  if (result.testcase) {
    for (pugi::xml_node failure : result.testcase.children("failure")) add(failure);
  }
  if (out.message.empty()) {
    for (pugi::xml_node suite : testsuites_of(result.doc)) {
      for (pugi::xml_node testcase : suite.children("testcase")) {
        for (pugi::xml_node failure : testcase.children("failure")) add(failure);
      }
    }
  }
  return out;
}

// ctest's captured output without gtest's banner lines, which say nothing about why.
std::string with_output_tail(std::string message, pugi::xml_node testcase) {
  std::string output;
  for (std::string_view line : split_lines(testcase.child("system-out").text().get())) {
    if (line.starts_with("Note: Google Test filter") || line.starts_with("[==========]") ||
        line.starts_with("[----------]")) {
      continue;
    }
    output.append(line).append("\n");
  }
  std::string tail = tail_lines(output, kOutputTailLines);
  if (!tail.empty()) message += "\nlast lines of its output:\n" + tail;
  return message;
}

void set_element(pugi::xml_node testcase, const char* element, const std::string& message,
                 const std::string& text) {
  for (const char* old : {"failure", "error", "skipped"}) {
    while (pugi::xml_node node = testcase.child(old)) testcase.remove_child(node);
  }
  pugi::xml_node node = testcase.child("system-out")
                            ? testcase.insert_child_before(element, testcase.child("system-out"))
                            : testcase.append_child(element);
  node.append_attribute("message") = message.c_str();
  if (!text.empty()) node.text() = text.c_str();
}

void copy_properties(pugi::xml_node testcase, const GtestResult& result) {
  pugi::xml_node from = result.testcase.child("properties");
  if (!from) return;
  testcase.remove_child("properties");
  pugi::xml_node to = testcase.prepend_child("properties");
  for (pugi::xml_node prop : from.children("property")) to.append_copy(prop);
}

void set_status(pugi::xml_node testcase, const char* status) {
  pugi::xml_attribute attribute = testcase.attribute("status");
  if (!attribute) attribute = testcase.append_attribute("status");
  attribute = status;
}

class Merger {
 public:
  Merger(fs::path gtest_dir, std::optional<Fixtures> fixtures)
      : gtest_dir_(std::move(gtest_dir)), fixtures_(std::move(fixtures)) {}

  void merge(pugi::xml_document& doc) {
    std::vector<pugi::xml_node> suites = testsuites_of(doc);
    if (suites.empty()) {
      throw InputError("expected a JUnit document with a <testsuite> root (ctest --output-junit)");
    }
    for (pugi::xml_node suite : suites) {
      std::string started = suite.attribute("timestamp").value();
      for (pugi::xml_node testcase : suite.children("testcase")) {
        std::string name = testcase.attribute("name").value();
        tests_[name] = Test{testcase, classify(testcase), started,
                            testcase.child("skipped").attribute("message").value(), ""};
      }
    }
    // Failures first: a not-run test's reason quotes its failed prerequisite's.
    for (auto& [name, test] : tests_) {
      if (test.verdict != Verdict::kNotRun) fill_ran(name, test);
    }
    for (auto& [name, test] : tests_) {
      if (test.verdict == Verdict::kNotRun) fill_not_run(name, test);
    }
    for (pugi::xml_node suite : suites) recount(suite);
  }

 private:
  struct Test {
    pugi::xml_node node;
    Verdict verdict;
    std::string run_started;
    std::string ctest_skip_message;  // as ctest wrote it, before the merge rewrites it
    std::string reason;              // the essence, quoted by the tests that require this one
  };

  void fill_ran(const std::string& name, Test& test) {
    GtestResult gtest = read_gtest_result(gtest_dir_, name, test.run_started);
    if (gtest.testcase) copy_properties(test.node, gtest);
    pugi::xml_node gtest_skip = gtest.testcase.child("skipped");
    switch (test.verdict) {
      case Verdict::kFailed: {
        Failures failures = failures_in(gtest);
        if (!gtest.problem.empty()) {
          failures.message = with_output_tail(
              gtest.problem + ": the check crashed or hit its CTest TIMEOUT; see ctest output",
              test.node);
          failures.text = failures.message;
        } else if (failures.message.empty()) {
          failures.message = with_output_tail(
              "ctest counted this as failed but its gtest XML (" + gtest.path.string() +
                  ") records no failure: the process exited non-zero after the check ran; "
                  "see ctest output",
              test.node);
          failures.text = failures.message;
        }
        set_element(test.node, "failure", failures.message, failures.text);
        test.reason = failures.message;
        break;
      }
      case Verdict::kSkipped:
        if (gtest_skip) {
          set_element(test.node, "skipped", reason_of(gtest.testcase), gtest_skip.text().get());
        } else if (!test.node.child("skipped")) {  // DISABLED in CTest: no element at all
          set_element(test.node, "skipped", reason_of(test.node), "");
        }
        if (std::string_view(test.node.attribute("status").value()) != "disabled") {
          set_status(test.node, "skipped");
        }
        break;
      case Verdict::kPassed:
        // A skip that still exited 0 (GTEST_SKIP without main returning 77).
        if (gtest_skip) {
          set_status(test.node, "skipped");
          set_element(test.node, "skipped", reason_of(gtest.testcase), gtest_skip.text().get());
        }
        break;
      case Verdict::kNotRun:
        break;
    }
  }

  // Direct prerequisites of a test that did not run: ctest's own output names them
  // ("Failed test dependencies: a b", space-separated: deploycheck test names hold no
  // spaces); else the --fixtures file's entry.
  std::vector<std::string> failed_prerequisites(const std::string& name, const Test& test) {
    constexpr std::string_view kPrefix = "Failed test dependencies:";
    std::vector<std::string> names;
    for (std::string_view line : split_lines(test.node.child("system-out").text().get())) {
      if (!line.starts_with(kPrefix)) continue;
      std::stringstream list{std::string(line.substr(kPrefix.size()))};
      for (std::string dep; list >> dep;) names.push_back(dep);
    }
    if (names.empty() && fixtures_) {
      if (auto it = fixtures_->find(name); it != fixtures_->end()) {
        for (const std::string& dep : it->second) {
          auto found = tests_.find(dep);
          if (found != tests_.end() && found->second.verdict != Verdict::kPassed &&
              found->second.verdict != Verdict::kSkipped) {
            names.push_back(dep);
          }
        }
      }
    }
    return names;
  }

  static bool is_fixture_not_run(const Test& test) {
    return test.ctest_skip_message == "Fixture dependency failed";
  }

  // The tests at the bottom of a not-run chain: ones that failed, or did not run for
  // a reason of their own (e.g. their executable is missing).
  void find_roots(const std::string& name, int depth, std::set<std::string>& seen,
                  std::vector<std::string>& roots) {
    if (depth > kMaxPrerequisiteDepth || !seen.insert(name).second) return;
    auto it = tests_.find(name);
    if (it == tests_.end()) {
      roots.push_back(name);
      return;
    }
    Test& test = it->second;
    if (test.verdict == Verdict::kNotRun && is_fixture_not_run(test)) {
      std::vector<std::string> deps = failed_prerequisites(name, test);
      if (!deps.empty()) {
        for (const std::string& dep : deps) find_roots(dep, depth + 1, seen, roots);
        return;
      }
    }
    roots.push_back(name);
  }

  void fill_not_run(const std::string& name, Test& test) {
    if (!test.reason.empty()) return;
    std::string message;
    if (!is_fixture_not_run(test)) {
      // ctest could not start it: its output says why ("Unable to find executable: x").
      std::string why = trim(test.node.child("system-out").text().get());
      if (why.empty()) why = test.ctest_skip_message;
      message = "not run: " + why;
    } else {
      std::vector<std::string> direct = failed_prerequisites(name, test);
      std::vector<std::string> roots;
      std::set<std::string> seen{name};
      for (const std::string& dep : direct) find_roots(dep, 1, seen, roots);
      std::string via;
      for (const std::string& dep : direct) {
        if (std::find(roots.begin(), roots.end(), dep) != roots.end()) continue;
        via += (via.empty() ? " (via " : ", ") + dep;
      }
      if (!via.empty()) via += ")";
      for (const std::string& root : roots) {
        if (!message.empty()) message += "\n";
        auto it = tests_.find(root);
        if (it == tests_.end()) {
          message += "not run: prerequisite " + root + " failed" + via;
        } else if (it->second.verdict == Verdict::kNotRun) {
          fill_not_run(root, it->second);
          std::string inner = it->second.reason;
          if (inner.starts_with("not run: ")) inner.erase(0, 9);
          message += "not run: prerequisite " + root + " did not run" + via + ": " + inner;
        } else {
          message += "not run: prerequisite " + root + " failed" + via + ": " + it->second.reason;
        }
      }
      if (message.empty()) message = "not run: a prerequisite failed";
    }
    test.reason = message;
    set_element(test.node, "failure", message, message);
  }

  static void recount(pugi::xml_node suite) {
    int tests = 0, failures = 0, skipped = 0;
    for (pugi::xml_node testcase : suite.children("testcase")) {
      ++tests;
      if (testcase.child("failure") || testcase.child("error")) ++failures;
      if (testcase.child("skipped")) ++skipped;
    }
    for (auto [attribute, value] : {std::pair{"tests", tests}, std::pair{"failures", failures},
                                    std::pair{"skipped", skipped}}) {
      pugi::xml_attribute count = suite.attribute(attribute);
      if (!count) count = suite.append_attribute(attribute);
      count = value;
    }
  }

  fs::path gtest_dir_;
  std::optional<Fixtures> fixtures_;
  std::map<std::string, Test, std::less<>> tests_;
};

}  // namespace

int run_junit(std::span<char* const> args) {
  Options opts(args, {"--ctest-junit", "--gtest-xml-dir", "--out", "--fixtures"});
  fs::path ctest_junit = opts.require("--ctest-junit");
  fs::path gtest_dir = opts.require("--gtest-xml-dir");
  fs::path out = opts.require("--out");
  std::optional<Fixtures> fixtures;
  if (auto file = opts.get("--fixtures")) fixtures = read_fixtures(*file);

  pugi::xml_document doc = load_xml(ctest_junit);
  Merger(gtest_dir, std::move(fixtures)).merge(doc);
  if (!doc.save_file(out.c_str(), "\t", pugi::format_default, pugi::encoding_utf8)) {
    throw InputError("cannot write " + out.string() +
                     ": check the directory exists and is writable");
  }
  return 0;
}

}  // namespace deploycheck::results
