// deploycheck-bench-migrations: one Gather.PostgreSQL of a Django project's history (the whole
// fact gather the Migrations suite makes: one connection, one read-only transaction), printing
// the pending list one per line, as `manage.py showmigrations --plan` marks them "[ ]".
//
//   DATABASE_URL=postgres://... deploycheck-bench-migrations APP_MIGRATIONS_DIR...
//
// The URL comes from the environment only (a secret never goes on a command line).
#include <cstdlib>
#include <iostream>

#include "probes/policy.hpp"
#include "probes/postgres/migration_files.hpp"
#include "probes/postgres/postgres_probe.hpp"

int main(int argc, char** argv) {
  using namespace deploycheck;
  const char* url = std::getenv("DATABASE_URL");
  if (url == nullptr || argc < 2) {
    std::cerr << "usage: DATABASE_URL=... " << argv[0] << " APP_MIGRATIONS_DIR...\n";
    return 2;
  }
  MigrationsRequest m{.id = "django", .tool = "django"};
  m.swappable = {{"AUTH_USER_MODEL", "auth.User"}};
  for (int i = 1; i < argc; ++i) m.directories.emplace_back(argv[i]);
  PostgresRequest request{.url = Secret(url), .shown = "DATABASE_URL", .migrations = {m}};
  try {
    const auto facts = gather_postgres(request, std::chrono::milliseconds(10000));
    const auto& history = facts.at("migrations").at("django");
    if (history.contains("error")) {
      std::cerr << history.at("error").get<std::string>() << "\n";
      return 1;
    }
    for (const auto& name : migration_status_from_json(history).pending) std::cout << name << "\n";
  } catch (const Unreachable& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return 0;
}
