// EnvVars: the environment-variable sections of the checklists — 000's Django, database,
// Redis, Celery, security, JWT, storage, email and monitoring tables; 002's .env.production and
// DATABASE_URL; 003's "production environment variables verified"; 004's "set in Railway".
//
// One test per required variable and per rule of each variable, so a report names exactly
// what is wrong: EnvVars.Required/DATABASE_URL, EnvVars.Boolean/DEBUG,
// EnvVars.Strong/JWT_SECRET_KEY.
#include <sys/stat.h>

#include "fixtures/dotenv.hpp"
#include "fixtures/env_var.hpp"
#include "matchers/env_matchers.hpp"
#include "probes/policy.hpp"
#include "runner/check.hpp"
#include "runner/gather.hpp"

namespace deploycheck {
namespace {

const std::string kAllConfigured =
    "000 Environment Variables Verification: All required environment variables configured";
const std::string kVerified =
    "000 Environment Variables Verification: Environment variables verification script passed";
const std::string kDotenv =
    "002 Environment Setup: Environment variables configured (.env.production)";
const std::string kProductionVerified =
    "003 Configuration: Production environment variables verified";
const std::string kRailway = "004 Infrastructure: Environment variables set in Railway";
const std::string kNotPlainText =
    "000 Environment Variables Verification: Secrets stored in secure secrets manager (not plain "
    "text)";

// Checklist lines about one particular variable.
std::vector<std::string> items_for(const std::string& key) {
  if (key == "DEBUG")
    return {kVerified, "000 Django Settings: DEBUG (must be False in production)"};
  if (key == "DATABASE_URL")
    return {kVerified, "002 Environment Setup: DATABASE_URL properly formatted and tested"};
  if (key == "DJANGO_SECRET_KEY")
    return {kVerified, "000 Django Settings: DJANGO_SECRET_KEY (generate unique)"};
  if (key == "ALLOWED_HOSTS") return {kVerified, "000 Django Settings: ALLOWED_HOSTS"};
  return {kVerified};
}

// The variables' sources as the application would see them.
const RuntimeValues& app_values() {
  static const RuntimeValues values =
      RuntimeValues::for_environment(environment(), environment().env_vars->process);
  return values;
}

EnvVar var(const std::string& key, bool secret) {
  EnvVar v{key, std::nullopt, "", secret};
  if (auto value = app_values().lookup(key)) {
    v.value = std::move(value->text);
    v.origin = std::move(value->origin);
  }
  return v;
}

bool rule_is_secret(const std::string& key) {
  for (const auto& r : environment().env_vars->rules) {
    if (r.key == key) return r.secret;
  }
  return false;
}

// The fact keys of the dotenv gathers, so every EnvVars check waits for (and is "not run"
// without) sources that parse.
std::vector<std::string> g_source_facts;

void register_dotenv_sources(const EnvVarsConfig& config) {
  std::set<std::string> ids;
  for (const auto& source : config.dotenv) {
    std::string id = sanitize(std::filesystem::path(source.raw).filename().string());
    while (!ids.insert(id).second) id += "_";
    Policy policy{.timeout = Duration{5000}, .retries = 0};
    const auto key = register_gather(GatherSpec{
        .probe = "Dotenv",
        .target = id,
        .suite = "EnvVars",
        .policy = policy,
        .gatherer = [source](const Policy&) {
          const auto path = runtime_values().expand_path(source, environment().file.parent_path());
          struct stat st {};
          if (::stat(path.c_str(), &st) != 0) {
            throw Unreachable(path.string() +
                              ": cannot read the dotenv file: " + std::strerror(errno));
          }
          try {
            const auto entries = dotenv::parse_file(path);
            return std::pair{nlohmann::json{{"path", path.string()},
                                            {"mode", static_cast<int>(st.st_mode & 07777)},
                                            {"bindings", entries.size()}},
                             1};
          } catch (const dotenv::ParseError& e) {
            // A malformed file is a hard error (python-dotenv would only warn and skip the line).
            throw Unreachable(e.what());
          }
        }});
    g_source_facts.push_back(key);

    if (!config.private_dotenv) continue;
    register_check(CheckSpec{.suite = "EnvVars",
                             .name = "DotenvPrivate",
                             .target = id,
                             .phase = Phase::kBoth,
                             .severity = Severity::kHigh,
                             .checklist = {kNotPlainText},
                             .gathers = {key}},
                   [key] {
                     auto fact = need_fact(key);
                     if (!fact) return;
                     const std::string path = fact->data.at("path");
                     const int mode = fact->data.at("mode");
                     std::vector<std::string> secrets;
                     for (const auto& r : environment().env_vars->rules) {
                       if (!r.secret) continue;
                       auto value = app_values().lookup(r.key);
                       if (value && value->origin.rfind(path + ":", 0) == 0)
                         secrets.push_back(r.key);
                     }
                     if (secrets.empty()) {
                       SUCCEED() << path << " holds no variable marked secret";
                       return;
                     }
                     char octal[8];
                     std::snprintf(octal, sizeof octal, "%04o", mode);
                     EXPECT_EQ(mode & 077, 0)
                         << path << " holds secrets (" << ::testing::PrintToString(secrets)
                         << ") but its mode is " << octal
                         << ": group or others can read it. Run: chmod 600 " << path;
                   });
  }
}

void rule_check(const EnvRule& rule, const std::string& name, EnvVarMatcher matcher,
                std::vector<std::string> extra_items = {}) {
  auto items = items_for(rule.key);
  items.insert(items.end(), extra_items.begin(), extra_items.end());
  register_check(CheckSpec{.suite = "EnvVars",
                           .name = name,
                           .target = rule.key,
                           .phase = Phase::kBoth,
                           .severity = environment().env_vars->severity,
                           .checklist = items,
                           .gathers = g_source_facts},
                 [key = rule.key, secret = rule.secret, matcher] {
                   const EnvVar variable = var(key, secret);
                   if (!variable.value) {
                     // Whether it must be set is EnvVars.Required's judgement, not this rule's.
                     GTEST_SKIP() << key << " is not set; its rules apply when it is";
                   }
                   EXPECT_THAT(variable, matcher);
                 });
}

}  // namespace

DEPLOYCHECK_CHECKS(EnvVars) {
  if (!environment().env_vars) return;
  const EnvVarsConfig& config = *environment().env_vars;
  register_dotenv_sources(config);

  for (const auto& key : config.required) {
    register_check(CheckSpec{.suite = "EnvVars",
                             .name = "Required",
                             .target = key,
                             .phase = Phase::kBoth,
                             .severity = config.severity,
                             .checklist = {kAllConfigured, kDotenv, kProductionVerified, kRailway},
                             .gathers = g_source_facts},
                   [key] {
                     const EnvVar variable = var(key, rule_is_secret(key));
                     EXPECT_THAT(variable, IsSet());
                   });
  }
  for (const auto& rule : config.rules) {
    if (rule.equals) rule_check(rule, "Equals", EqualsText(*rule.equals));
    if (!rule.one_of.empty()) rule_check(rule, "OneOf", IsOneOf(rule.one_of));
    if (rule.boolean) rule_check(rule, "Boolean", IsBoolean(*rule.boolean));
    if (rule.integer) rule_check(rule, "Integer", IsIntegerIn(*rule.integer));
    if (rule.url) rule_check(rule, "Url", IsUrl(*rule.url));
    if (rule.list) rule_check(rule, "List", IsListWhere(*rule.list));
    if (rule.matches) rule_check(rule, "Matches", MatchesPattern(*rule.matches));
    if (rule.min_length) rule_check(rule, "MinLength", HasMinLength(*rule.min_length));
    if (rule.not_example) rule_check(rule, "NotExample", IsNotExample());
    if (rule.strong) rule_check(rule, "Strong", IsStrongSecret(*rule.strong));
  }
}

}  // namespace deploycheck
