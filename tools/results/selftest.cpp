// `deploycheck-results selftest`: runs one suite of a deliberately broken
// environment and checks that exactly the expected defects were caught.

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "tools/results/cli.h"
#include "tools/results/commands.h"
#include "tools/results/testcases.h"

namespace deploycheck::results {
namespace {

namespace fs = std::filesystem;

struct Expectation {
  std::string substring;
  std::string where;  // file:line, for the report
};

std::map<std::string, Expectation> read_expected(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw InputError("cannot open --expected file " + path.string());
  std::map<std::string, Expectation> expected;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::string where = path.string() + ":" + std::to_string(number);
    if (trim(line).empty() || trim(line).starts_with('#')) continue;
    std::size_t tab = line.find('\t');
    if (tab == std::string::npos || trim(line.substr(0, tab)).empty() ||
        line.substr(tab + 1).empty()) {
      throw InputError(where + ": expected 'Suite.Test/param<TAB>substring of its message', saw '" +
                       line + "'");
    }
    std::string name = trim(line.substr(0, tab));
    if (!expected.emplace(name, Expectation{line.substr(tab + 1), where}).second) {
      throw InputError(where + ": " + name + " is listed twice; list each test once");
    }
  }
  return expected;
}

// A pipe whose ends close themselves.
class Pipe {
 public:
  Pipe() {
    if (pipe2(fds_, O_CLOEXEC) != 0) {
      throw InputError(std::string("cannot create a pipe: ") + std::strerror(errno));
    }
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  int read_end() const { return fds_[0]; }
  int write_end() const { return fds_[1]; }
  void close_read() { close_fd(fds_[0]); }
  void close_write() { close_fd(fds_[1]); }

 private:
  static void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  int fds_[2] = {-1, -1};
};

struct ChildStatus {
  bool started = false;
  std::string problem;  // empty when it exited 0 or 1
  int exit_code = -1;
};

// Runs argv[0] (searched in PATH when it has no '/') with our environment and our
// stdout/stderr. The child dies with us (PR_SET_PDEATHSIG).
ChildStatus run_child(const std::vector<std::string>& argv) {
  std::vector<char*> raw;
  for (const std::string& arg : argv) raw.push_back(const_cast<char*>(arg.c_str()));
  raw.push_back(nullptr);

  Pipe exec_error;  // carries errno if exec fails; closed by a successful exec
  std::cout.flush();
  std::cerr.flush();
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return {false, std::string("cannot fork: ") + std::strerror(errno)};
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    execvp(raw[0], raw.data());
    int error = errno;
    ssize_t ignored = write(exec_error.write_end(), &error, sizeof error);
    (void)ignored;
    _exit(127);
  }
  exec_error.close_write();
  int exec_errno = 0;
  ssize_t got;
  do {
    got = read(exec_error.read_end(), &exec_errno, sizeof exec_errno);
  } while (got < 0 && errno == EINTR);

  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return {true, std::string("waitpid failed: ") + std::strerror(errno)};
  }
  if (got == sizeof exec_errno) {
    return {false, "cannot execute " + argv[0] + ": " + std::strerror(exec_errno)};
  }
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    return {true, "crashed: killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")"};
  }
  int code = WEXITSTATUS(status);
  if (code != 0 && code != 1) {
    return {true, "exited with status " + std::to_string(code) + " (a gtest run exits 0 or 1)",
            code};
  }
  return {true, "", code};
}

struct Outcome {
  int ran = 0;
  std::map<std::string, std::string> failed;   // full name -> all failure messages
  std::map<std::string, std::string> skipped;  // full name -> reason
  std::map<std::string, bool> present;         // every test in the XML
};

Outcome read_outcome(const pugi::xml_document& doc) {
  Outcome outcome;
  for (pugi::xml_node suite : testsuites_of(doc)) {
    for (pugi::xml_node testcase : suite.children("testcase")) {
      std::string full =
          std::string(suite.attribute("name").value()) + "." + testcase.attribute("name").value();
      if (std::string_view(testcase.attribute("name").value()).empty()) {
        full = std::string(suite.attribute("name").value()) +
               " (a failure outside any test: global Environment or SetUpTestSuite)";
      }
      outcome.present[full] = true;
      if (std::string_view(testcase.attribute("status").value()) == "notrun")
        continue;  // DISABLED_
      ++outcome.ran;
      std::string messages;
      for (pugi::xml_node failure : testcase.children("failure")) {
        std::string text = failure.text().get();
        messages += (messages.empty() ? "" : "\n") +
                    (trim(text).empty() ? std::string(failure.attribute("message").value()) : text);
      }
      if (!messages.empty()) {
        outcome.failed[full] = messages;
      } else if (testcase.child("skipped") ||
                 std::string_view(testcase.attribute("result").value()) == "skipped") {
        outcome.skipped[full] = reason_of(testcase);
      }
    }
  }
  return outcome;
}

std::string first_line(const std::string& message) {
  std::string text = essence(message);
  return text.substr(0, text.find('\n'));
}

}  // namespace

int run_selftest(std::span<char* const> args) {
  Options opts(args, {"--exe", "--suite", "--expected", "--xml"}, /*passthrough=*/true);
  std::string exe = opts.require("--exe");
  std::string suite = opts.require("--suite");
  fs::path xml = opts.require("--xml");
  std::map<std::string, Expectation> expected = read_expected(opts.require("--expected"));
  const std::string tag = "selftest " + suite + ": ";

  std::error_code ignored;
  fs::remove(xml, ignored);  // never judge an earlier run's XML
  std::vector<std::string> argv = {exe, "--gtest_filter=" + suite + ".*:" + suite + "/*.*",
                                   "--gtest_output=xml:" + xml.string()};
  argv.insert(argv.end(), opts.passthrough().begin(), opts.passthrough().end());
  std::string command;
  for (const std::string& arg : argv) command += (command.empty() ? "" : " ") + arg;
  std::cout << tag << "running " << command << std::endl;

  ChildStatus child = run_child(argv);
  std::vector<std::string> problems;
  if (!child.problem.empty()) problems.push_back(child.problem);
  Outcome outcome;
  if (child.started) {
    pugi::xml_document doc;
    if (!fs::exists(xml)) {
      problems.push_back("no gtest XML at " + xml.string() + ": the run died before writing it");
    } else if (pugi::xml_parse_result parsed = doc.load_file(xml.c_str()); !parsed) {
      problems.push_back("unreadable gtest XML " + xml.string() + ": " + parsed.description());
    } else {
      outcome = read_outcome(doc);
      if (outcome.ran == 0) {
        problems.push_back("no test ran: --gtest_filter=" + suite + ".*:" + suite +
                           "/*.* matched nothing; check the suite name");
      }
    }
  }

  std::vector<std::string> missing, wrong, extra, skipped;
  int caught = 0;
  for (const auto& [name, expectation] : expected) {
    auto failed = outcome.failed.find(name);
    if (failed == outcome.failed.end()) {
      std::string why =
          outcome.present.contains(name)
              ? "passed: the defect went unnoticed"
              : "did not run: no such test in the XML; check the name at " + expectation.where;
      missing.push_back(name + "  " + why);
    } else if (failed->second.find(expectation.substring) == std::string::npos) {
      wrong.push_back(name + "\n      expected a message containing: " + expectation.substring +
                      "\n      actual first line: " + first_line(failed->second));
    } else {
      ++caught;
    }
  }
  for (const auto& [name, message] : outcome.failed) {
    if (!expected.contains(name)) extra.push_back(name + ": " + first_line(message));
  }
  for (const auto& [name, reason] : outcome.skipped) {
    skipped.push_back(name + ": " + first_line(reason));
  }

  std::cout << tag << outcome.ran << " tests ran, " << outcome.failed.size() << " failed, "
            << outcome.skipped.size() << " skipped\n";
  bool exact =
      problems.empty() && missing.empty() && wrong.empty() && extra.empty() && skipped.empty();
  if (exact) {
    std::cout << tag << "caught exactly: " << caught << "/" << expected.size() << std::endl;
    return 0;
  }
  std::cout << tag << "NOT exact: caught " << caught << "/" << expected.size() << "\n";
  auto list = [](const char* title, const std::vector<std::string>& items) {
    if (items.empty()) return;
    std::cout << "  " << title << ":\n";
    for (const std::string& item : items) std::cout << "    " << item << "\n";
  };
  list("run problems", problems);
  list("missing (expected to fail but did not)", missing);
  list("wrong message", wrong);
  list("extra (failed but not expected)", extra);
  list("skipped (a self-test may not skip)", skipped);
  std::cout.flush();
  return 1;
}

}  // namespace deploycheck::results
