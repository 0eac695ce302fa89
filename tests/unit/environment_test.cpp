// The environment file loader: valid files load with every value read back; each file of the
// bad corpus (tests/data/environments/bad/<case>.yaml) fails with exactly the text of its
// sibling <case>.expected. Adding a case is adding those two files.
#include "fixtures/environment.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "fixtures/config_error.hpp"
#include "fixtures/yaml_reader.hpp"

namespace deploycheck {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

const fs::path kEnvironments = fs::path(DEPLOYCHECK_TEST_DATA) / "environments";
const fs::path kRepoEnvironments = fs::path(DEPLOYCHECK_TEST_DATA) / ".." / ".." / "environments";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return {std::istreambuf_iterator<char>(in), {}};
}

// Loads tests/data/environments/<relative>, naming it by `relative` in errors.
Environment load(const std::string& relative) {
  return load_environment(read_file(kEnvironments / relative), relative);
}

// The error text, or "(loaded)" if the text loads.
std::string error_of(std::string_view yaml, const std::string& file = "test.yaml") {
  try {
    load_environment(yaml, file);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(loaded)";
}

// The stems of dir/*.yaml, sorted.
std::vector<std::string> yaml_cases(const fs::path& dir) {
  std::vector<std::string> names;
  if (!fs::is_directory(dir)) return names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string stem_name(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

// --- Valid files ----------------------------------------------------------------------------

TEST(LoadEnvironment, NameAloneIsAValidFileAndEverythingElseIsDefault) {
  const auto env = load("good/minimal.yaml");
  EXPECT_EQ(env.name, "x");
  EXPECT_EQ(env.description, "");
  EXPECT_EQ(env.file, fs::path("good/minimal.yaml"));
  EXPECT_EQ(env.defaults.timeout, 5s);
  EXPECT_EQ(env.defaults.retries, 0);
  EXPECT_EQ(env.defaults.backoff, 100ms);
  EXPECT_EQ(env.defaults.eventually, 0ms);
  EXPECT_FALSE(env.sandbox.has_value());
  EXPECT_FALSE(env.env_vars.has_value());
  EXPECT_FALSE(env.monitoring.has_value());
  EXPECT_THAT(env.waivers, IsEmpty());
  EXPECT_THAT(env.attestations, IsEmpty());
}

class FullEnvironment : public ::testing::Test {
 protected:
  const Environment env = load("good/full.yaml");
  const EnvRule& rule(std::size_t i) const { return env.env_vars->rules.at(i); }
};

TEST_F(FullEnvironment, ReadsTopLevelKeys) {
  EXPECT_EQ(env.name, "full_example");
  EXPECT_EQ(env.description, "Every key, read back by tests/unit/environment_test.cpp");
  EXPECT_EQ(env.file, fs::path("good/full.yaml"));
}

TEST_F(FullEnvironment, ReadsDefaults) {
  EXPECT_EQ(env.defaults.timeout, 3s);
  EXPECT_EQ(env.defaults.retries, 2);
  EXPECT_EQ(env.defaults.attempts(), 3);
  EXPECT_EQ(env.defaults.backoff, 250ms);
  EXPECT_EQ(env.defaults.eventually, 1min);
}

TEST_F(FullEnvironment, ReadsSandboxServices) {
  ASSERT_TRUE(env.sandbox.has_value());
  EXPECT_THAT(env.sandbox->services, ElementsAre("ca", "nginx"));
}

TEST_F(FullEnvironment, ReadsEnvVarsSection) {
  ASSERT_TRUE(env.env_vars.has_value());
  const auto& ev = *env.env_vars;
  EXPECT_FALSE(ev.process);
  EXPECT_THAT(ev.dotenv,
              ElementsAre(Template{".env.production"}, Template{"${RUN_DIR}/sandbox.env"}));
  EXPECT_FALSE(ev.private_dotenv);
  EXPECT_EQ(ev.severity, Severity::kHigh);
  EXPECT_THAT(ev.required, ElementsAre("DJANGO_SECRET_KEY", "DATABASE_URL"));
}

TEST_F(FullEnvironment, KeepsRulesInFileOrder) {
  std::vector<std::string> keys;
  for (const auto& r : env.env_vars->rules) keys.push_back(r.key);
  EXPECT_THAT(keys, ElementsAre("DJANGO_SECRET_KEY", "DEBUG", "LOG_LEVEL", "DB_POOL_SIZE",
                                "DATABASE_URL", "ALLOWED_HOSTS", "AWS_REGION"));
}

TEST_F(FullEnvironment, ReadsSecretStrengthRule) {
  const auto& r = rule(0);
  EXPECT_TRUE(r.secret);
  EXPECT_EQ(r.min_length, 64);
  EXPECT_TRUE(r.not_example);
  ASSERT_TRUE(r.strong.has_value());
  EXPECT_EQ(r.strong->min_length, 60);
  EXPECT_EQ(r.strong->min_unique, 10);
  EXPECT_THAT(r.strong->forbid_prefixes, ElementsAre("django-insecure-", "dev-"));
  EXPECT_FALSE(r.equals.has_value());
  EXPECT_FALSE(r.url.has_value());
}

TEST_F(FullEnvironment, ReadsEqualsAndBooleanRule) {
  const auto& r = rule(1);
  EXPECT_FALSE(r.secret);
  EXPECT_EQ(r.equals, "False");
  EXPECT_EQ(r.boolean, "false");
  EXPECT_FALSE(r.not_example);
  EXPECT_FALSE(r.strong.has_value());
}

TEST_F(FullEnvironment, ReadsOneOfRule) {
  EXPECT_THAT(rule(2).one_of, ElementsAre("INFO", "WARNING"));
}

TEST_F(FullEnvironment, ReadsIntegerRangeIncludingNegatives) {
  ASSERT_TRUE(rule(3).integer.has_value());
  EXPECT_EQ(rule(3).integer->min, -5);
  EXPECT_EQ(rule(3).integer->max, 100);
}

TEST_F(FullEnvironment, ReadsUrlRule) {
  ASSERT_TRUE(rule(4).url.has_value());
  EXPECT_TRUE(rule(4).secret);
  EXPECT_THAT(rule(4).url->schemes, ElementsAre("postgres", "postgresql"));
  EXPECT_FALSE(rule(4).url->require_host);
}

TEST_F(FullEnvironment, ReadsListRuleWithMemberRule) {
  ASSERT_TRUE(rule(5).list.has_value());
  const auto& list = *rule(5).list;
  EXPECT_EQ(list.separator, ";");
  EXPECT_THAT(list.forbid, ElementsAre("*", "localhost"));
  EXPECT_EQ(list.min_items, 2);
  ASSERT_TRUE(list.each.has_value());
  ASSERT_TRUE(list.each->url.has_value());
  EXPECT_THAT(list.each->url->schemes, ElementsAre("https"));
  EXPECT_EQ(list.each->matches, "^https://");
}

TEST_F(FullEnvironment, ReadsMatchesRule) {
  EXPECT_EQ(rule(6).matches, "^[a-z]{2}-[a-z]+-[0-9]$");
}

TEST_F(FullEnvironment, ReadsEveryHealthCheckKey) {
  ASSERT_TRUE(env.monitoring.has_value());
  ASSERT_THAT(env.monitoring->health, SizeIs(2));
  const auto& h = env.monitoring->health[0];
  EXPECT_EQ(h.id, "web");
  EXPECT_EQ(h.url, Template{"https://${HOST}:${PORT}/health"});
  EXPECT_EQ(h.ca_file, Template{"${CA_FILE}"});
  EXPECT_EQ(h.expect_status, 204);
  EXPECT_EQ(h.body_contains, "\"status\":\"healthy\"");
  EXPECT_EQ(h.max_latency, 750ms);
  EXPECT_EQ(h.policy.timeout, 10s);
  EXPECT_EQ(h.policy.retries, 3);
  EXPECT_EQ(h.policy.backoff, 1s);
  EXPECT_EQ(h.policy.eventually, 2min);
  EXPECT_EQ(h.phase, Phase::kPost);
  EXPECT_EQ(h.severity, Severity::kLow);
}

TEST_F(FullEnvironment, HealthCheckWithoutPolicyKeysInheritsDefaults) {
  const auto& h = env.monitoring->health.at(1);
  EXPECT_EQ(h.id, "inherits_defaults");
  EXPECT_EQ(h.url, Template{"${HEALTH_URL}"});
  EXPECT_EQ(h.policy.timeout, 3s);
  EXPECT_EQ(h.policy.retries, 2);
  EXPECT_EQ(h.policy.backoff, 250ms);
  EXPECT_EQ(h.policy.eventually, 1min);
  EXPECT_EQ(h.expect_status, 200);
  EXPECT_FALSE(h.ca_file.has_value());
  EXPECT_FALSE(h.body_contains.has_value());
  EXPECT_FALSE(h.max_latency.has_value());
  EXPECT_EQ(h.phase, Phase::kBoth);
  EXPECT_EQ(h.severity, Severity::kCritical);
}

TEST_F(FullEnvironment, ReadsWaiversIncludingALeapDay) {
  ASSERT_THAT(env.waivers, SizeIs(1));
  EXPECT_EQ(env.waivers[0].test, "TLS.ProtocolsForbidden/api");
  EXPECT_EQ(env.waivers[0].reason, "legacy clients until the migration");
  EXPECT_EQ(env.waivers[0].expires, "2028-02-29");
}

TEST_F(FullEnvironment, ReadsAttestationsAndTheirDefaults) {
  ASSERT_THAT(env.attestations, SizeIs(2));
  const auto& a = env.attestations[0];
  EXPECT_EQ(a.id, "change_request_approved");
  EXPECT_EQ(a.item, "Change request approved");
  EXPECT_THAT(a.checklist,
              ElementsAre("000 Change Management: Change request approved", "001 Sign-off"));
  EXPECT_EQ(a.phase, Phase::kBoth);
  EXPECT_EQ(a.severity, Severity::kCritical);
  const auto& b = env.attestations[1];
  EXPECT_EQ(b.id, "stakeholders_notified");
  EXPECT_THAT(b.checklist, IsEmpty());
  EXPECT_EQ(b.phase, Phase::kPre);
  EXPECT_EQ(b.severity, Severity::kHigh);
}

TEST(LoadEnvironment, AcceptsTheOneWordFormsOfRules) {
  const auto env = load("good/scalar_forms.yaml");
  ASSERT_TRUE(env.env_vars.has_value());
  EXPECT_THAT(env.env_vars->dotenv, ElementsAre(Template{".env"}));
  const auto& rules = env.env_vars->rules;
  ASSERT_THAT(rules, SizeIs(5));

  ASSERT_TRUE(rules[0].url.has_value());  // url: true
  EXPECT_THAT(rules[0].url->schemes, IsEmpty());
  EXPECT_TRUE(rules[0].url->require_host);

  ASSERT_TRUE(rules[1].list.has_value());  // list: " "
  EXPECT_EQ(rules[1].list->separator, " ");
  EXPECT_THAT(rules[1].list->forbid, IsEmpty());

  ASSERT_TRUE(rules[2].integer.has_value());  // integer: true
  EXPECT_FALSE(rules[2].integer->min.has_value());
  EXPECT_FALSE(rules[2].integer->max.has_value());

  ASSERT_TRUE(rules[3].strong.has_value());  // strong: true
  EXPECT_EQ(rules[3].strong->min_length, 50);
  EXPECT_EQ(rules[3].strong->min_unique, 5);
  EXPECT_THAT(rules[3].strong->forbid_prefixes, ElementsAre("django-insecure-"));

  EXPECT_EQ(rules[4].equals, "null");  // quoted: the string, not YAML's null
}

TEST(LoadEnvironment, LoadsTheRepositorysSandbox) {
  const auto path = kRepoEnvironments / "sandbox.yaml";
  const auto env = load_environment(read_file(path), path);
  EXPECT_EQ(env.name, "sandbox");
  ASSERT_TRUE(env.env_vars.has_value());
  EXPECT_THAT(env.env_vars->required, ::testing::Contains("DJANGO_SECRET_KEY"));
  const auto& rules = env.env_vars->rules;
  const auto key = std::find_if(rules.begin(), rules.end(),
                                [](const EnvRule& r) { return r.key == "DJANGO_SECRET_KEY"; });
  ASSERT_NE(key, rules.end());
  EXPECT_TRUE(key->secret);
  EXPECT_TRUE(key->strong.has_value());
  ASSERT_TRUE(env.monitoring.has_value());
  ASSERT_THAT(env.monitoring->health, SizeIs(1));
  EXPECT_EQ(env.monitoring->health[0].id, "web");
  EXPECT_EQ(env.monitoring->health[0].policy.timeout, env.defaults.timeout);
}

TEST(LoadEnvironment, LoadsTheRepositorysBrokenSandbox) {
  const auto path = kRepoEnvironments / "sandbox_broken.yaml";
  const auto env = load_environment(read_file(path), path);
  EXPECT_EQ(env.name, "sandbox_broken");
  ASSERT_TRUE(env.env_vars.has_value());
  EXPECT_THAT(env.env_vars->dotenv, SizeIs(2));
  ASSERT_TRUE(env.monitoring.has_value());
  std::vector<std::string> ids;
  for (const auto& h : env.monitoring->health) ids.push_back(h.id);
  EXPECT_THAT(ids, ElementsAre("down", "wrong_body", "untrusted", "refused"));
  EXPECT_EQ(env.monitoring->health[3].policy.timeout, 500ms);
  EXPECT_EQ(env.monitoring->health[3].policy.retries, 1);
}

// Every file under good/ loads, whatever the tests above assert about it.
class GoodEnvironmentFile : public ::testing::TestWithParam<std::string> {};

TEST_P(GoodEnvironmentFile, Loads) {
  const std::string relative = "good/" + GetParam() + ".yaml";
  EXPECT_NO_THROW(load(relative)) << error_of(read_file(kEnvironments / relative), relative);
}

INSTANTIATE_TEST_SUITE_P(Corpus, GoodEnvironmentFile,
                         ::testing::ValuesIn(yaml_cases(kEnvironments / "good")), stem_name);

// --- The bad corpus -------------------------------------------------------------------------

class BadEnvironmentFile : public ::testing::TestWithParam<std::string> {
 protected:
  std::string relative() const { return "bad/" + GetParam() + ".yaml"; }
  std::string yaml() const { return read_file(kEnvironments / relative()); }
  // The .expected file's one line, without its newline.
  std::string expected() const {
    auto text = read_file(kEnvironments / "bad" / (GetParam() + ".expected"));
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
  }
};

TEST_P(BadEnvironmentFile, FailsWithExactlyTheExpectedError) {
  try {
    load_environment(yaml(), relative());
    ADD_FAILURE() << relative() << " loaded, but should fail with:\n  " << expected();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), expected());
  } catch (const std::exception& e) {
    ADD_FAILURE() << relative() << " threw a " << typeid(e).name()
                  << " instead of a ConfigError: " << e.what();
  }
}

// Independently of the .expected text: the error's line:column is 1-based and lands on a
// character of the file that is not blank (a key, a value, or the token yaml-cpp stopped at).
TEST_P(BadEnvironmentFile, PointsAtACharacterOfTheFile) {
  static const std::regex kPosition(R"(^bad/[a-z_]+\.yaml:([0-9]+):([0-9]+): error: .+)");
  const auto text = expected();
  std::smatch m;
  ASSERT_TRUE(std::regex_match(text, m, kPosition)) << text;
  const int line = std::stoi(m[1]);
  const int column = std::stoi(m[2]);
  ASSERT_GE(line, 1);
  ASSERT_GE(column, 1);
  const auto source = yaml();
  if (source.empty()) {
    EXPECT_EQ(line, 1);
    EXPECT_EQ(column, 1);
    return;
  }
  std::istringstream lines(source);
  std::string content;
  for (int i = 0; i < line; ++i) {
    ASSERT_TRUE(std::getline(lines, content)) << "line " << line << " is past the end of the file";
  }
  ASSERT_LE(column, static_cast<int>(content.size())) << "column past the end of: " << content;
  const char at = content[column - 1];
  EXPECT_TRUE(at == '\t' ||
              !std::isspace(static_cast<unsigned char>(at)))  // a tab may be the error
      << "points at a blank in line " << line << ": '" << content << "'";
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadEnvironmentFile,
                         ::testing::ValuesIn(yaml_cases(kEnvironments / "bad")), stem_name);

TEST(BadEnvironmentCorpus, HasAtLeastTwentyCasesEachWithAnExpectedFile) {
  const auto dir = kEnvironments / "bad";
  const auto cases = yaml_cases(dir);
  EXPECT_GE(cases.size(), 20u);
  for (const auto& name : cases) {
    EXPECT_TRUE(fs::exists(dir / (name + ".expected"))) << name << ".yaml has no .expected";
  }
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".expected") continue;
    EXPECT_TRUE(fs::exists(fs::path(entry.path()).replace_extension(".yaml")))
        << entry.path().filename() << " has no .yaml";
  }
}

// --- Messages built outside the corpus ------------------------------------------------------

TEST(ConfigError, FormatsLikeACompiler) {
  EXPECT_STREQ(ConfigError("a.yaml", 3, 7, "env_vars.rules", "oops").what(),
               "a.yaml:3:7: error: env_vars.rules: oops");
  EXPECT_STREQ(ConfigError("a.yaml", 1, 1, "", "oops").what(), "a.yaml:1:1: error: oops");
}

TEST(LoadEnvironment, NamesTheFileAsGiven) {
  EXPECT_EQ(error_of("name: Bad\n", "/abs/path/prod.yaml"),
            "/abs/path/prod.yaml:1:7: error: name: expected a lower-case name of letters, digits "
            "and '_' (it becomes a CTest label and part of the executable's name), found 'Bad'");
}

TEST(LoadEnvironment, ReportsAnUnknownKeyBeforeItsMissingValue) {
  EXPECT_EQ(error_of("name: x\ndefault:\n"),
            "test.yaml:2:1: error: default: unknown key 'default'; did you mean 'defaults'? "
            "(expected one of: name, description, defaults, sandbox, env_vars, monitoring, "
            "dns, tls, database, migrations, smoke, static_assets, backups, waivers, attestations)");
}

TEST(LoadEnvironment, ReportsAnEmptyValueAtItsKeyEvenAtTheEndOfTheFile) {
  EXPECT_EQ(error_of("name: x\ndefaults:\n  timeout:"),
            "test.yaml:3:3: error: defaults.timeout: expected a value after ':', found nothing");
}

TEST(LoadEnvironment, AcceptsEveryCalendarDateAndNoOther) {
  const auto waiver = [](const std::string& date) {
    return error_of("name: x\nwaivers: [{test: T.t, reason: r, expires: " + date + "}]\n");
  };
  EXPECT_EQ(waiver("2027-01-31"), "(loaded)");
  EXPECT_EQ(waiver("2028-02-29"), "(loaded)");
  EXPECT_EQ(waiver("2027-12-31"), "(loaded)");
  EXPECT_THAT(waiver("2027-04-31"), ::testing::HasSubstr("which is not in the calendar"));
  EXPECT_THAT(waiver("2100-02-29"), ::testing::HasSubstr("which is not in the calendar"));
  EXPECT_EQ(waiver("2027-00-10"),
            "test.yaml:2:43: error: waivers[0].expires: expected a date YYYY-MM-DD, found "
            "'2027-00-10'");
}

TEST(LoadEnvironment, TemplatesAcceptOnlyWellFormedReferences) {
  const auto url = [](const std::string& u) {
    return error_of("name: x\nmonitoring: {health: [{id: a, url: '" + u + "'}]}\n");
  };
  EXPECT_EQ(url("${URL}"), "(loaded)");
  EXPECT_EQ(url("https://${HOST}:${PORT}/x"), "(loaded)");
  EXPECT_EQ(url("http://h/$PATH"), "(loaded)");  // a lone '$' without '{' is literal
  EXPECT_THAT(url("https://${}/x"), ::testing::HasSubstr("malformed ${VAR} reference"));
  EXPECT_THAT(url("https://${HOST-NAME}/x"), ::testing::HasSubstr("malformed ${VAR} reference"));
  EXPECT_THAT(url("https://${HOST"), ::testing::HasSubstr("malformed ${VAR} reference"));
}

TEST(LoadEnvironment, RetriesAcceptZeroToTen) {
  EXPECT_EQ(error_of("name: x\ndefaults: {retries: 0}\n"), "(loaded)");
  EXPECT_EQ(error_of("name: x\ndefaults: {retries: 10}\n"), "(loaded)");
  EXPECT_EQ(error_of("name: x\ndefaults: {retries: -1}\n"),
            "test.yaml:2:21: error: defaults.retries: expected an integer from 0 to 10, found -1");
}

// --- Small helpers ----------------------------------------------------------------------------

TEST(Severity, RoundTripsThroughItsName) {
  for (auto s : {Severity::kCritical, Severity::kHigh, Severity::kMedium, Severity::kLow}) {
    EXPECT_EQ(parse_severity(to_string(s)), s) << to_string(s);
  }
  EXPECT_STREQ(to_string(Severity::kHigh), "high");
  EXPECT_EQ(parse_severity("Critical"), std::nullopt);
  EXPECT_EQ(parse_severity("urgent"), std::nullopt);
  EXPECT_EQ(parse_severity(""), std::nullopt);
}

TEST(Phase, ParsesPrePostAndBoth) {
  EXPECT_EQ(parse_phase("pre"), Phase::kPre);
  EXPECT_EQ(parse_phase("post"), Phase::kPost);
  EXPECT_EQ(parse_phase("both"), Phase::kBoth);
  EXPECT_EQ(parse_phase("Pre"), std::nullopt);
  EXPECT_EQ(parse_phase("during"), std::nullopt);
}

TEST(NearestKey, SuggestsTheClosestKeyForATypo) {
  EXPECT_EQ(nearest_key("env_var", {"name", "env_vars", "monitoring"}), "env_vars");
  EXPECT_EQ(nearest_key("equal", {"secret", "equals", "one_of"}), "equals");
  EXPECT_EQ(nearest_key("montoring", {"name", "env_vars", "monitoring"}), "monitoring");
  EXPECT_EQ(nearest_key("timout", {"timeout", "retries"}), "timeout");
}

TEST(NearestKey, SuggestsNothingWhenNoKeyIsClose) {
  EXPECT_EQ(nearest_key("alerting", {"health"}), std::nullopt);
  EXPECT_EQ(nearest_key("database", {"name", "env_vars", "monitoring"}), std::nullopt);
}

}  // namespace
}  // namespace deploycheck
