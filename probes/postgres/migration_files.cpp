#include "probes/postgres/migration_files.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <functional>
#include <memory>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace deploycheck {

namespace fs = std::filesystem;

nlohmann::json to_json(const MigrationStatus& s) {
  return {{"applied", s.applied},
          {"pending", s.pending},
          {"failed", s.failed},
          {"unknown", s.unknown},
          {"checksum_mismatch", s.checksum_mismatch},
          {"notes", s.notes}};
}

MigrationStatus migration_status_from_json(const nlohmann::json& j) {
  MigrationStatus s;
  auto list = [&](const char* key) {
    return j.contains(key) ? j.at(key).get<std::vector<std::string>>() : std::vector<std::string>{};
  };
  s.applied = list("applied");
  s.pending = list("pending");
  s.failed = list("failed");
  s.unknown = list("unknown");
  s.checksum_mismatch = list("checksum_mismatch");
  s.notes = list("notes");
  return s;
}

namespace {

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Python source with comments blanked out (strings kept), so a `# ("app", "0001")` in a
// comment is never read as a dependency.
std::string without_comments(const std::string& source) {
  std::string out = source;
  char quote = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    if (quote) {
      if (c == '\\') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '#') {
      while (i < out.size() && out[i] != '\n') out[i++] = ' ';
    }
  }
  return out;
}

bool is_word(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

size_t skip_space(const std::string& text, size_t i) {
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  return i;
}

// The position of the '[' or '(' opening the value of `name = ...` (an annotation such as
// `name: list = [` allowed), or npos. Hand-written rather than std::regex: a project may have
// thousands of migration files, and std::regex costs milliseconds per file.
size_t list_start(const std::string& source, const std::string& name) {
  for (size_t at = source.find(name); at != std::string::npos; at = source.find(name, at + 1)) {
    if ((at > 0 && is_word(source[at - 1])) ||
        (at + name.size() < source.size() && is_word(source[at + name.size()]))) {
      continue;
    }
    size_t i = skip_space(source, at + name.size());
    if (i < source.size() && source[i] == ':') {  // an annotation, up to '=' on this line
      while (i < source.size() && source[i] != '=' && source[i] != '\n') ++i;
    }
    if (i >= source.size() || source[i] != '=' || (i + 1 < source.size() && source[i + 1] == '=')) {
      continue;
    }
    i = skip_space(source, i + 1);
    if (i < source.size() && (source[i] == '[' || source[i] == '(')) return i;
  }
  return std::string::npos;
}

// The text of the list assigned to `name` (`name = [ ... ]`, brackets matched), or nothing.
std::optional<std::string> list_assigned_to(const std::string& source, const std::string& name,
                                            const fs::path& file) {
  const size_t i = list_start(source, name);
  if (i == std::string::npos) return std::nullopt;
  int depth = 0;
  char quote = 0;
  for (size_t j = i; j < source.size(); ++j) {
    const char c = source[j];
    if (quote) {
      if (c == '\\')
        ++j;
      else if (c == quote)
        quote = 0;
      continue;
    }
    if (c == '\'' || c == '"')
      quote = c;
    else if (c == '[' || c == '(')
      ++depth;
    else if ((c == ']' || c == ')') && --depth == 0)
      return source.substr(i, j - i + 1);
  }
  throw std::runtime_error(file.string() + ": the list `" + name +
                           " = [...]` is not closed: cannot read this migration statically");
}

// A quoted string literal at `i` (after spaces); its text, and `i` moved past it.
std::optional<std::string> quoted_at(const std::string& text, size_t& i) {
  i = skip_space(text, i);
  if (i >= text.size() || (text[i] != '\'' && text[i] != '"')) return std::nullopt;
  const char quote = text[i];
  const size_t end = text.find(quote, i + 1);
  if (end == std::string::npos) return std::nullopt;
  std::string value = text.substr(i + 1, end - i - 1);
  i = end + 1;
  return value;
}

// Every `("a", "b")` pair of string literals in a list, in order.
std::vector<std::pair<std::string, std::string>> tuples_in(const std::string& list) {
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t open = list.find('('); open != std::string::npos; open = list.find('(', open + 1)) {
    size_t i = open + 1;
    auto first = quoted_at(list, i);
    if (!first) continue;
    i = skip_space(list, i);
    if (i >= list.size() || list[i] != ',') continue;
    auto second = quoted_at(list, ++i);
    if (!second) continue;
    i = skip_space(list, i);
    if (i < list.size() && list[i] == ',') i = skip_space(list, i + 1);
    if (i < list.size() && list[i] == ')') out.emplace_back(*first, *second);
  }
  return out;
}

using Key = std::pair<std::string, std::string>;

std::string id_of(const Key& key) {
  return key.first + "." + key.second;
}

// Django's MigrationGraph, as far as the plan needs it.
struct Graph {
  std::map<Key, std::set<Key>> parents, children;

  bool has(const Key& k) const { return parents.count(k) != 0; }
  void add_node(const Key& k) {
    parents[k];
    children[k];
  }
  void add_edge(const Key& child, const Key& parent) {
    parents[child].insert(parent);
    children[parent].insert(child);
  }
  std::vector<Key> roots(const std::string& app) const {
    std::vector<Key> out;
    for (const auto& [k, ps] : parents) {
      if (k.first != app) continue;
      if (std::none_of(ps.begin(), ps.end(), [&](const Key& p) { return p.first == k.first; }))
        out.push_back(k);
    }
    return out;  // std::map keeps them sorted, as Django's sorted()
  }
  std::vector<Key> leaves(const std::optional<std::string>& app) const {
    std::vector<Key> out;
    for (const auto& [k, cs] : children) {
      if (app && k.first != *app) continue;
      if (std::none_of(cs.begin(), cs.end(), [&](const Key& c) { return c.first == k.first; }))
        out.push_back(k);
    }
    return out;
  }
  void remove(const Key& k) {
    parents.erase(k);
    children.erase(k);
  }
  // MigrationGraph.remove_replaced_nodes
  void remove_replaced(const Key& replacement, const std::set<Key>& replaced) {
    for (const Key& old : replaced) {
      if (!has(old)) continue;
      for (const Key& child : std::set<Key>(children[old])) {
        parents[child].erase(old);
        if (!replaced.count(child)) add_edge(child, replacement);
      }
      for (const Key& parent : std::set<Key>(parents[old])) {
        children[parent].erase(old);
        if (!replaced.count(parent)) add_edge(replacement, parent);
      }
      remove(old);
    }
  }
  // MigrationGraph.remove_replacement_node: children of the squash depend on the latest of the
  // replaced migrations instead.
  void remove_replacement(const Key& replacement, const std::set<Key>& replaced) {
    std::set<Key> latest, their_parents;
    for (const Key& old : replaced) {
      if (!has(old)) continue;
      latest.insert(old);
      their_parents.insert(parents[old].begin(), parents[old].end());
    }
    for (const Key& p : their_parents) latest.erase(p);
    for (const Key& child : std::set<Key>(children[replacement])) {
      parents[child].erase(replacement);
      for (const Key& old : latest) add_edge(child, old);
    }
    for (const Key& parent : std::set<Key>(parents[replacement]))
      children[parent].erase(replacement);
    remove(replacement);
  }
  // MigrationGraph.iterative_dfs(forwards=True)
  std::vector<Key> forwards_plan(const Key& target) const {
    std::vector<Key> visited;
    std::set<Key> seen;
    std::vector<std::pair<Key, bool>> stack{{target, false}};
    while (!stack.empty()) {
      auto [node, processed] = stack.back();
      stack.pop_back();
      if (seen.count(node)) continue;
      if (processed) {
        seen.insert(node);
        visited.push_back(node);
      } else {
        stack.emplace_back(node, true);
        for (const Key& p : parents.at(node)) stack.emplace_back(p, false);  // sorted
      }
    }
    return visited;
  }
};

}  // namespace

std::vector<DjangoMigration> read_django_migrations(
    const std::vector<fs::path>& migration_dirs,
    const std::map<std::string, std::string>& swappable) {
  static const std::regex kSwappable(R"(swappable_dependency\(\s*settings\.([A-Za-z_]+)\s*\))");
  std::vector<DjangoMigration> out;
  for (const fs::path& dir : migration_dirs) {
    if (!fs::is_directory(dir)) {
      throw std::runtime_error(dir.string() + " is not a directory: expected an app's migrations/");
    }
    const std::string app = fs::absolute(dir).lexically_normal().parent_path().filename().string();
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      // Django's loader skips modules starting with '_' or '~'.
      if (entry.is_regular_file() && entry.path().extension() == ".py" && name[0] != '_' &&
          name[0] != '~') {
        files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      const std::string source = without_comments(read_all(file));
      DjangoMigration m{app, file.stem().string(), {}, {}};
      if (auto list = list_assigned_to(source, "dependencies", file)) {
        m.dependencies = tuples_in(*list);
        // std::regex only where the text is there: it is slow, and projects have many files.
        const bool swappable_used = list->find("swappable_dependency") != std::string::npos;
        for (auto it = swappable_used ? std::sregex_iterator(list->begin(), list->end(), kSwappable)
                                      : std::sregex_iterator();
             it != std::sregex_iterator(); ++it) {
          const std::string setting = (*it)[1].str();
          auto value = swappable.find(setting);
          if (value == swappable.end()) {
            throw std::runtime_error(file.string() + ": swappable_dependency(settings." + setting +
                                     ") names a setting the environment file does not give "
                                     "(migrations.django.swappable)");
          }
          m.dependencies.emplace_back(value->second.substr(0, value->second.find('.')),
                                      "__first__");
        }
      }
      if (auto list = list_assigned_to(source, "replaces", file)) m.replaces = tuples_in(*list);
      out.push_back(std::move(m));
    }
  }
  return out;
}

MigrationStatus django_status(const std::vector<DjangoMigration>& migrations,
                              const std::vector<HistoryRow>& rows) {
  MigrationStatus status;
  Graph graph;
  std::set<std::string> apps;
  std::set<std::string> known;  // every migration on disk, and every one a squash replaces
  for (const auto& m : migrations) {
    graph.add_node({m.app, m.name});
    apps.insert(m.app);
    known.insert(id_of({m.app, m.name}));
    for (const auto& r : m.replaces) known.insert(id_of(r));
  }
  // MigrationLoader.add_internal_dependencies, then add_external_dependencies.
  for (const auto& m : migrations) {
    for (const auto& dep : m.dependencies) {
      if (dep.first == m.app && dep.second != "__first__") graph.add_edge({m.app, m.name}, dep);
    }
  }
  for (const auto& m : migrations) {
    for (Key dep : m.dependencies) {
      if (dep.first == m.app) continue;
      if ((dep.second == "__first__" || dep.second == "__latest__") && !graph.has(dep)) {
        if (!apps.count(dep.first)) {
          status.notes.push_back(id_of({m.app, m.name}) + " depends on app '" + dep.first +
                                 "', whose migrations directory is not configured");
          continue;
        }
        const auto candidates =
            dep.second == "__first__" ? graph.roots(dep.first) : graph.leaves(dep.first);
        dep = candidates.front();
      }
      if (!graph.has(dep)) {
        status.notes.push_back(id_of({m.app, m.name}) + " depends on " + id_of(dep) +
                               ", which is not on disk");
        continue;
      }
      graph.add_edge({m.app, m.name}, dep);
    }
  }

  std::set<std::string> applied;
  for (const auto& row : rows) applied.insert(row.id);
  // MigrationLoader: a squash is applied when all it replaces are; usable when all or none are.
  for (const auto& m : migrations) {
    if (m.replaces.empty()) continue;
    const Key key{m.app, m.name};
    const auto count = std::count_if(m.replaces.begin(), m.replaces.end(),
                                     [&](const Key& r) { return applied.count(id_of(r)) != 0; });
    const bool all = count == static_cast<long>(m.replaces.size());
    if (all)
      applied.insert(id_of(key));
    else
      applied.erase(id_of(key));
    const std::set<Key> replaced(m.replaces.begin(), m.replaces.end());
    if (all || count == 0)
      graph.remove_replaced(key, replaced);
    else
      graph.remove_replacement(key, replaced);
  }

  // `showmigrations --plan`: each leaf's forwards plan, in order, without repeats.
  std::set<Key> seen;
  for (const Key& leaf : graph.leaves(std::nullopt)) {
    for (const Key& node : graph.forwards_plan(leaf)) {
      if (!seen.insert(node).second) continue;
      (applied.count(id_of(node)) ? status.applied : status.pending).push_back(id_of(node));
    }
  }
  for (const auto& row : rows) {
    const std::string app = row.id.substr(0, row.id.find('.'));
    if (apps.count(app) && !known.count(row.id)) status.unknown.push_back(row.id);
  }
  return status;
}

std::string sha256_file_hex(const fs::path& path) {
  const std::string data = read_all(path);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("sha256 of " + path.string() + " failed");
  }
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

MigrationStatus prisma_status(const fs::path& migrations_dir, const std::vector<HistoryRow>& rows) {
  if (!fs::is_directory(migrations_dir)) {
    throw std::runtime_error(migrations_dir.string() +
                             " is not a directory: expected prisma/migrations");
  }
  std::map<std::string, fs::path> disk;  // sorted by name: Prisma's order
  for (const auto& entry : fs::directory_iterator(migrations_dir)) {
    if (entry.is_directory() && fs::exists(entry.path() / "migration.sql")) {
      disk[entry.path().filename().string()] = entry.path() / "migration.sql";
    }
  }
  std::map<std::string, const HistoryRow*> done;
  std::set<std::string> failed;
  for (const auto& row : rows) {
    if (row.failed)
      failed.insert(row.id);
    else
      done[row.id] = &row;
  }
  MigrationStatus status;
  for (const auto& [name, file] : disk) {
    auto it = done.find(name);
    if (it != done.end()) {
      status.applied.push_back(name);
      if (it->second->checksum && *it->second->checksum != sha256_file_hex(file)) {
        status.checksum_mismatch.push_back(name);
      }
    } else if (!failed.count(name)) {
      status.pending.push_back(name);
    }
  }
  // A failed attempt that a later one completed is history, not a failure.
  for (const auto& name : failed) {
    if (!done.count(name)) status.failed.push_back(name);
  }
  for (const auto& [name, row] : done) {
    if (!disk.count(name)) status.unknown.push_back(name);
  }
  return status;
}

bool version_less(const std::string& a, const std::string& b) {
  auto split = [](const std::string& v) {
    std::vector<std::string> parts;
    std::string part;
    for (char c : v) {
      if (c == '.' || c == '_') {
        parts.push_back(part);
        part.clear();
      } else {
        part += c;
      }
    }
    parts.push_back(part);
    return parts;
  };
  const auto pa = split(a), pb = split(b);
  for (size_t i = 0; i < std::min(pa.size(), pb.size()); ++i) {
    const bool na = !pa[i].empty() && std::all_of(pa[i].begin(), pa[i].end(), ::isdigit);
    const bool nb = !pb[i].empty() && std::all_of(pb[i].begin(), pb[i].end(), ::isdigit);
    if (na && nb) {
      const auto ta = pa[i].substr(std::min(pa[i].find_first_not_of('0'), pa[i].size() - 1));
      const auto tb = pb[i].substr(std::min(pb[i].find_first_not_of('0'), pb[i].size() - 1));
      if (ta.size() != tb.size()) return ta.size() < tb.size();
      if (ta != tb) return ta < tb;
    } else if (pa[i] != pb[i]) {
      return pa[i] < pb[i];
    }
  }
  return pa.size() < pb.size();
}

namespace {

// Alembic: `revision = "x"` and `down_revision = "y" | None | ("a", "b")` in versions/*.py.
MigrationStatus alembic_status(const fs::path& dir, const std::vector<HistoryRow>& rows) {
  static const std::regex kRevision(R"re(\nrevision\s*(?::[^=\n]*)?=\s*['"]([^'"]+)['"])re");
  static const std::regex kDown(R"re(\ndown_revision\s*(?::[^=\n]*)?=\s*([^\n]+))re");
  static const std::regex kQuoted(R"re(['"]([^'"]+)['"])re");
  std::map<std::string, std::vector<std::string>> parents;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".py") continue;
    const std::string source = "\n" + without_comments(read_all(entry.path()));
    std::smatch m;
    if (!std::regex_search(source, m, kRevision)) continue;
    auto& ps = parents[m[1].str()];
    if (std::regex_search(source, m, kDown)) {
      const std::string down = m[1].str();
      for (auto it = std::sregex_iterator(down.begin(), down.end(), kQuoted);
           it != std::sregex_iterator(); ++it) {
        ps.push_back((*it)[1].str());
      }
    }
  }
  MigrationStatus status;
  std::set<std::string> applied;
  std::function<void(const std::string&)> mark = [&](const std::string& rev) {
    if (!parents.count(rev) || !applied.insert(rev).second) return;
    for (const auto& p : parents[rev]) mark(p);
  };
  for (const auto& row : rows) {
    if (!parents.count(row.id)) status.unknown.push_back(row.id);
    mark(row.id);
  }
  // Parents first; among revisions ready at once, by id.
  std::set<std::string> placed;
  while (placed.size() < parents.size()) {
    bool progress = false;
    for (const auto& [rev, ps] : parents) {
      if (placed.count(rev)) continue;
      if (std::all_of(ps.begin(), ps.end(),
                      [&](const std::string& p) { return placed.count(p) || !parents.count(p); })) {
        placed.insert(rev);
        (applied.count(rev) ? status.applied : status.pending).push_back(rev);
        progress = true;
      }
    }
    if (!progress) {
      status.notes.push_back("the revisions in " + dir.string() + " form a cycle");
      break;
    }
  }
  return status;
}

}  // namespace

MigrationStatus versioned_status(const VersionedFiles& files, const std::vector<HistoryRow>& rows) {
  if (!fs::is_directory(files.directory)) {
    throw std::runtime_error(files.directory.string() +
                             " is not a directory: expected the migration files");
  }
  if (files.meaning == AppliedMeaning::kHeads) return alembic_status(files.directory, rows);
  const std::regex pattern(files.file_pattern);
  auto normal = [&](std::string v) {
    if (files.dots_for_underscores) std::replace(v.begin(), v.end(), '_', '.');
    return v;
  };
  std::vector<std::string> disk;
  for (const auto& entry : fs::directory_iterator(files.directory)) {
    const std::string name = entry.path().filename().string();
    std::smatch m;
    if (entry.is_regular_file() && std::regex_match(name, m, pattern) && m.size() > 1) {
      const std::string v = normal(m[1].str());
      if (std::find(disk.begin(), disk.end(), v) == disk.end()) disk.push_back(v);
    }
  }
  std::sort(disk.begin(), disk.end(), version_less);
  auto on_disk = [&](const std::string& v) {
    return std::find(disk.begin(), disk.end(), v) != disk.end();
  };

  MigrationStatus status;
  if (files.meaning == AppliedMeaning::kLatestOnly) {
    if (rows.size() > 1)
      status.notes.push_back("expected one row, found " + std::to_string(rows.size()));
    if (rows.empty()) {
      status.pending = disk;
      return status;
    }
    const HistoryRow& current = rows.front();
    const std::string v = normal(current.id);
    if (current.failed) status.failed.push_back(v);
    if (!on_disk(v)) status.unknown.push_back(v);
    for (const auto& d : disk) {
      if (version_less(d, v) || (d == v && !current.failed))
        status.applied.push_back(d);
      else if (d != v)
        status.pending.push_back(d);
    }
    return status;
  }
  std::set<std::string> done, failed;
  for (const auto& row : rows) (row.failed ? failed : done).insert(normal(row.id));
  for (const auto& d : disk) {
    if (done.count(d))
      status.applied.push_back(d);
    else if (!failed.count(d))
      status.pending.push_back(d);
  }
  for (const auto& f : failed) {
    if (!done.count(f)) status.failed.push_back(f);
  }
  std::vector<std::string> unknown;
  for (const auto& d : done) {
    if (!on_disk(d)) unknown.push_back(d);
  }
  std::sort(unknown.begin(), unknown.end(), version_less);
  status.unknown = unknown;
  return status;
}

}  // namespace deploycheck
