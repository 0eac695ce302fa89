// Reading JUnit testcases as written by `ctest --output-junit` (CMake 3.25), by
// googletest's `--gtest_output=xml`, and by `deploycheck-results junit` (the merge).
//
// ctest's JUnit marks three different things with status="notrun" and a <skipped>:
//   <skipped message="Fixture dependency failed"/>   a prerequisite failed: NOT a pass
//   <skipped message="SKIP_RETURN_CODE=77"/>         the check skipped itself
//   <skipped message="Unable to find executable"/>   never started: NOT a pass
// and writes status="disabled" with no child element for DISABLED tests. The merge
// rewrites these so that every viewer agrees: not-run tests get a <failure> (keeping
// status="notrun"), real skips get status="skipped".
#pragma once

#include <filesystem>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace deploycheck::results {

enum class Verdict { kPassed, kFailed, kNotRun, kSkipped };

const char* to_string(Verdict verdict);

// Loads an XML file; throws InputError saying which file, what was wrong and where.
pugi::xml_document load_xml(const std::filesystem::path& path);

// The <testsuite> elements of a JUnit document, whether the root is <testsuite>
// (ctest) or <testsuites> (googletest, most other tools).
std::vector<pugi::xml_node> testsuites_of(const pugi::xml_document& doc);

// "sandbox:EnvVars.Required/DATABASE_URL" -> environment "sandbox",
// gtest name "EnvVars.Required/DATABASE_URL", suite "EnvVars".
struct CtestName {
  std::string environment;
  std::string gtest_name;
  std::string suite;
};
CtestName split_ctest_name(std::string_view ctest_name);

// The file a check writes its gtest XML to: every character not in [A-Za-z0-9_.-]
// replaced by '_', plus ".xml".
std::string gtest_xml_file_name(std::string_view ctest_name);

// ctest's <skipped message> for a test that skipped itself (SKIP_RETURN_CODE=77,
// SKIP_REGULAR_EXPRESSION_MATCHED) or was disabled, as opposed to one that never ran.
bool is_ctest_skip_reason(std::string_view message);

Verdict classify(pugi::xml_node testcase);

// The reason recorded for a testcase's verdict (the message of its <failure>,
// <error> or <skipped>, else that element's text), reduced by essence(). Empty for
// a pass.
std::string reason_of(pugi::xml_node testcase);

// A gtest failure message without the lines gtest adds in front of the author's
// text: the "file.cpp:42" location line and the bare "Failed" after it.
std::string essence(std::string_view message);

// The text of a testcase's <property name=...>, or "" if it has none.
std::string property(pugi::xml_node testcase, std::string_view name);

std::vector<std::string_view> split_lines(std::string_view text);
std::string trim(std::string_view text);
// The last `count` non-blank lines of `text`.
std::string tail_lines(std::string_view text, std::size_t count);

}  // namespace deploycheck::results
