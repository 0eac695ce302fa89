// `deploycheck-results summary`: what a person reads at 2 a.m., and the filled
// Markdown checklist.

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "tools/results/cli.h"
#include "tools/results/commands.h"
#include "tools/results/testcases.h"

namespace deploycheck::results {
namespace {

constexpr std::size_t kReasonLines = 8;

struct Row {
  std::string name;
  std::string suite;
  Verdict verdict;
  std::string reason;
  std::string checklist;
  std::string severity;
};

struct Counts {
  int passed = 0, failed = 0, not_run = 0, skipped = 0;
  void add(Verdict verdict) {
    switch (verdict) {
      case Verdict::kPassed:
        ++passed;
        break;
      case Verdict::kFailed:
        ++failed;
        break;
      case Verdict::kNotRun:
        ++not_run;
        break;
      case Verdict::kSkipped:
        ++skipped;
        break;
    }
  }
};

struct Report {
  std::vector<Row> rows;
  std::vector<std::string> suites;  // in order of first appearance
  std::map<std::string, Counts> by_suite;
  Counts total;
  std::string started;
};

Report read_report(const std::string& path) {
  pugi::xml_document doc = load_xml(path);
  std::vector<pugi::xml_node> suites = testsuites_of(doc);
  if (suites.empty()) {
    throw InputError(path +
                     ": expected a JUnit document with <testsuite> elements; run "
                     "deploycheck-results junit on ctest's --output-junit first");
  }
  Report report;
  report.started = suites.front().attribute("timestamp").value();
  for (pugi::xml_node suite : suites) {
    for (pugi::xml_node testcase : suite.children("testcase")) {
      Row row;
      row.name = testcase.attribute("name").value();
      row.suite = split_ctest_name(row.name).suite;
      row.verdict = classify(testcase);
      row.reason = reason_of(testcase);
      if (row.reason.empty() && row.verdict == Verdict::kFailed) {
        row.reason = "(ctest records no reason: merge gtest's XML with deploycheck-results junit)";
      }
      row.checklist = property(testcase, "checklist");
      row.severity = property(testcase, "severity");
      if (!report.by_suite.contains(row.suite)) report.suites.push_back(row.suite);
      report.by_suite[row.suite].add(row.verdict);
      report.total.add(row.verdict);
      report.rows.push_back(std::move(row));
    }
  }
  return report;
}

class Style {
 public:
  explicit Style(bool color) : color_(color) {}
  std::string operator()(std::string_view text, const char* code) const {
    if (!color_) return std::string(text);
    return std::string("\033[") + code + "m" + std::string(text) + "\033[0m";
  }

 private:
  bool color_;
};

bool use_color(const std::string& mode) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  if (mode != "auto") {
    throw UsageError("--color expects auto, always or never, saw '" + mode + "'");
  }
  const char* term = std::getenv("TERM");
  return std::getenv("NO_COLOR") == nullptr && isatty(STDOUT_FILENO) != 0 && term != nullptr &&
         std::string_view(term) != "dumb";
}

void print_table(const Report& report, std::ostream& out) {
  std::size_t width = 5;
  for (const std::string& suite : report.suites) width = std::max(width, suite.size());
  out << std::left << std::setw(static_cast<int>(width)) << "Suite" << std::right
      << "  passed  failed  not run  skipped\n";
  for (const std::string& suite : report.suites) {
    const Counts& c = report.by_suite.at(suite);
    out << std::left << std::setw(static_cast<int>(width)) << suite << std::right << "  "
        << std::setw(6) << c.passed << "  " << std::setw(6) << c.failed << "  " << std::setw(7)
        << c.not_run << "  " << std::setw(7) << c.skipped << "\n";
  }
}

void print_reason(const std::string& reason, std::ostream& out) {
  std::vector<std::string_view> lines = split_lines(reason);
  std::size_t shown = std::min(lines.size(), kReasonLines);
  for (std::size_t i = 0; i < shown; ++i) out << "      " << lines[i] << "\n";
  if (lines.size() > shown) {
    out << "      ... (" << lines.size() - shown << " more lines in the JUnit XML)\n";
  }
}

void print_section(const Report& report, Verdict verdict, const char* title, const char* color,
                   const Style& style, std::ostream& out) {
  int count = 0;
  for (const Row& row : report.rows) count += row.verdict == verdict ? 1 : 0;
  if (count == 0) return;
  out << "\n" << style(std::string(title) + " (" + std::to_string(count) + ")", color) << "\n";
  for (const Row& row : report.rows) {
    if (row.verdict != verdict) continue;
    out << "  " << row.name;
    if (!row.severity.empty()) out << "  [" << row.severity << "]";
    out << "\n";
    if (!row.checklist.empty()) out << "    checklist: " << row.checklist << "\n";
    print_reason(row.reason, out);
  }
}

std::string markdown_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::string_view("\\`*_[]<>#|").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// A fenced block that no backtick run inside `text` can close.
std::string fenced(std::string_view text, std::string_view indent) {
  std::size_t longest = 0, run = 0;
  for (char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  std::string fence(std::max<std::size_t>(3, longest + 1), '`');
  std::string out = std::string(indent) + fence + "text\n";
  for (std::string_view line : split_lines(text))
    out += std::string(indent) + std::string(line) + "\n";
  return out + std::string(indent) + fence + "\n";
}

void write_markdown(const Report& report, const std::string& path) {
  std::ofstream out(path);
  if (!out) throw InputError("cannot write --markdown file " + path);
  const Counts& t = report.total;
  out << "# Deployment checklist: results\n\n";
  if (!report.started.empty()) out << "Run started " << report.started << ". ";
  out << t.passed << " passed, " << t.failed + t.not_run << " failed (" << t.not_run
      << " not run), " << t.skipped << " skipped.\n";
  for (const std::string& suite : report.suites) {
    out << "\n## " << markdown_escape(suite) << "\n\n";
    for (const Row& row : report.rows) {
      if (row.suite != suite) continue;
      out << (row.verdict == Verdict::kPassed ? "- [x] " : "- [ ] ");
      if (!row.checklist.empty()) out << markdown_escape(row.checklist) << " — ";
      out << "`" << row.name << "`: ";
      out << (row.verdict == Verdict::kPassed ? std::string("passed")
                                              : "**" + std::string(to_string(row.verdict)) + "**");
      if (!row.severity.empty()) out << " (" << markdown_escape(row.severity) << ")";
      out << "\n";
      if (!row.reason.empty() && row.verdict != Verdict::kPassed) out << fenced(row.reason, "  ");
    }
  }
  if (!out.flush()) throw InputError("cannot write --markdown file " + path);
}

}  // namespace

int run_summary(std::span<char* const> args) {
  Options opts(args, {"--junit", "--markdown", "--color"});
  std::string junit = opts.require("--junit");
  Style style(use_color(opts.get("--color").value_or("auto")));
  Report report = read_report(junit);
  if (auto markdown = opts.get("--markdown")) write_markdown(report, *markdown);

  std::ostream& out = std::cout;
  print_table(report, out);
  print_section(report, Verdict::kFailed, "FAILED", "1;31", style, out);
  print_section(report, Verdict::kNotRun, "NOT RUN", "1;31", style, out);
  print_section(report, Verdict::kSkipped, "SKIPPED", "33", style, out);

  const Counts& t = report.total;
  int failed = t.failed + t.not_run;
  out << "\n";
  if (report.rows.empty()) {
    out << style("no tests in " + junit + ": nothing was checked; this is not a pass", "1;31")
        << "\n";
  }
  out << failed << " failed (" << t.not_run << " not run)\n";
  out << t.passed << " passed, " << failed << " failed, " << t.skipped << " skipped\n";
  return failed == 0 && !report.rows.empty() ? 0 : 1;
}

}  // namespace deploycheck::results
