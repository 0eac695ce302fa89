#include "runner/check.hpp"

#include <ctime>
#include <optional>
#include <stdexcept>

namespace deploycheck {
namespace {

std::optional<Environment>& current_environment() {
  static std::optional<Environment> env;
  return env;
}

std::vector<TestInfo>& tests() {
  static std::vector<TestInfo> all;
  return all;
}

std::vector<void (*)()>& registrars() {
  static std::vector<void (*)()> all;
  return all;
}

std::vector<std::pair<std::string, CheckSpec>>& overrides() {
  static std::vector<std::pair<std::string, CheckSpec>> all;
  return all;
}

std::vector<std::string>& override_errors() {
  static std::vector<std::string> all;
  return all;
}

// A gtest test whose body is a function chosen at run time.
class RegisteredCheck : public Check {
 public:
  RegisteredCheck(std::string checklist, std::function<void()> body)
      : checklist_(std::move(checklist)), body_(std::move(body)) {}
  void TestBody() override {
    // So a report can be mapped back to the checklist line(s) this test verifies.
    if (!checklist_.empty()) RecordProperty("checklist", checklist_);
    body_();
  }

 private:
  std::string checklist_;
  std::function<void()> body_;
};

std::string today_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

}  // namespace

void set_environment(Environment env) {
  current_environment() = std::move(env);
}

const Environment& environment() {
  if (!current_environment()) throw std::logic_error("deploycheck: no environment is loaded");
  return *current_environment();
}

const RuntimeValues& runtime_values() {
  static const RuntimeValues values = RuntimeValues::for_environment(environment());
  return values;
}

std::string sanitize(std::string_view text) {
  std::string out;
  for (char c : text) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

void Check::SetUp() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string name = std::string(info->test_suite_name()) + "." + info->name();
  for (const auto& waiver : environment().waivers) {
    if (waiver.test != name) continue;
    // ISO dates compare correctly as strings; a waiver covers its whole expiry day.
    if (today_utc() <= waiver.expires) {
      GTEST_SKIP() << "waived until " << waiver.expires << " (UTC): " << waiver.reason;
    }
    ::testing::Test::RecordProperty("waiver", "expired on " + waiver.expires);
  }
}

void register_check(CheckSpec spec, std::function<void()> body) {
  spec.target = sanitize(spec.target);
  const std::string test_name = spec.target.empty() ? spec.name : spec.name + "/" + spec.target;
  std::string checklist;
  for (const auto& item : spec.checklist) checklist += (checklist.empty() ? "" : " | ") + item;
  ::testing::RegisterTest(spec.suite.c_str(), test_name.c_str(), nullptr, nullptr, __FILE__,
                          __LINE__, [checklist, body = std::move(body)]() -> Check* {
                            return new RegisteredCheck(checklist, body);
                          });
  tests().push_back(TestInfo{std::move(spec), false});
}

void register_gather_test(CheckSpec spec, std::function<void()> body) {
  register_check(spec, std::move(body));
  tests().back().is_gather = true;
}

const std::vector<TestInfo>& registered_tests() {
  return tests();
}

LabelOverride::LabelOverride(const char* suite, const char* test, const char* phase,
                             const char* severity, const char* checklist) {
  CheckSpec spec;
  spec.suite = suite;
  spec.name = test;
  const auto p = parse_phase(phase);
  const auto s = parse_severity(severity);
  const std::string where = std::string("DEPLOYCHECK_LABELS(") + suite + ", " + test + ")";
  if (!p) override_errors().push_back(where + ": phase '" + phase + "' is not pre, post or both");
  if (!s) {
    override_errors().push_back(where + ": severity '" + severity +
                                "' is not critical, high, medium or low");
  }
  spec.phase = p.value_or(Phase::kBoth);
  spec.severity = s.value_or(Severity::kMedium);
  if (*checklist != '\0') spec.checklist.emplace_back(checklist);
  overrides().emplace_back(std::string(suite) + "." + test, std::move(spec));
}

const std::vector<std::pair<std::string, CheckSpec>>& label_overrides() {
  return overrides();
}

const std::vector<std::string>& label_override_errors() { return override_errors(); }

ChecksRegistrar::ChecksRegistrar(void (*fn)()) {
  registrars().push_back(fn);
}

void run_registrars() {
  for (auto fn : registrars()) fn();
}

}  // namespace deploycheck
