// deploycheck::dotenv against python-dotenv 0.21 (tests/data/dotenv/expected/*.json, produced by
// python-dotenv itself via generate_expected.py) and against our own, deliberately stricter,
// error behaviour (tests/data/dotenv/bad/). README.md there explains every difference.
#include "fixtures/dotenv.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

namespace deploycheck::dotenv {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using Pairs = std::vector<std::pair<std::string, std::optional<std::string>>>;

fs::path corpus_dir() {
#ifdef DEPLOYCHECK_TEST_DATA
  return fs::path(DEPLOYCHECK_TEST_DATA) / "dotenv";
#else
  // tests/unit/dotenv_test.cpp -> tests/data/dotenv (CMake compiles sources by absolute path).
  return fs::path(__FILE__).parent_path().parent_path() / "data" / "dotenv";
#endif
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Stems of dir/*.env, sorted, so parameterised test names are stable.
std::vector<std::string> env_files(const fs::path& dir) {
  std::vector<std::string> names;
  if (!fs::is_directory(dir)) return names;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".env") names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Reads exactly what generate_expected.py writes: a JSON array of [string, string|null]
// pairs, ASCII only (json.dumps(ensure_ascii=True)). Anything else is a test failure.
class ExpectedReader {
 public:
  explicit ExpectedReader(std::string text) : text_(std::move(text)) {}

  Pairs read() {
    Pairs pairs;
    expect('[');
    if (!consume(']')) {
      do pairs.push_back(read_pair());
      while (consume(','));
      expect(']');
    }
    skip_space();
    if (i_ != text_.size()) fail("trailing text");
    return pairs;
  }

 private:
  std::pair<std::string, std::optional<std::string>> read_pair() {
    expect('[');
    std::string key = read_string();
    expect(',');
    skip_space();
    std::optional<std::string> value;
    if (text_.compare(i_, 4, "null") == 0) {
      i_ += 4;
    } else {
      value = read_string();
    }
    expect(']');
    return {std::move(key), std::move(value)};
  }

  std::string read_string() {
    expect('"');
    std::string out;
    while (i_ < text_.size() && text_[i_] != '"') {
      char c = text_[i_++];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= text_.size()) fail("unterminated escape");
      char e = text_[i_++];
      static const std::map<char, char> simple = {{'"', '"'},  {'\\', '\\'}, {'/', '/'},
                                                  {'b', '\b'}, {'f', '\f'},  {'n', '\n'},
                                                  {'r', '\r'}, {'t', '\t'}};
      if (auto it = simple.find(e); it != simple.end()) {
        out += it->second;
      } else if (e == 'u') {
        append_utf8(out, read_code_point());
      } else {
        fail("bad escape");
      }
    }
    expect('"');
    return out;
  }

  // \uXXXX, joining a UTF-16 surrogate pair (json.dumps writes non-BMP characters that way).
  char32_t read_code_point() {
    char32_t c = read_hex4();
    if (c >= 0xd800 && c <= 0xdbff) {
      if (text_.compare(i_, 2, "\\u") != 0) fail("lone high surrogate");
      i_ += 2;
      char32_t low = read_hex4();
      c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
    }
    return c;
  }

  char32_t read_hex4() {
    if (i_ + 4 > text_.size()) fail("short \\u escape");
    char32_t c = static_cast<char32_t>(std::stoul(text_.substr(i_, 4), nullptr, 16));
    i_ += 4;
    return c;
  }

  static void append_utf8(std::string& out, char32_t c) {
    auto byte = [&](char32_t b) { out += static_cast<char>(b); };
    if (c < 0x80) {
      byte(c);
    } else if (c < 0x800) {
      byte(0xc0 | (c >> 6)), byte(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
      byte(0xe0 | (c >> 12)), byte(0x80 | ((c >> 6) & 0x3f)), byte(0x80 | (c & 0x3f));
    } else {
      byte(0xf0 | (c >> 18)), byte(0x80 | ((c >> 12) & 0x3f));
      byte(0x80 | ((c >> 6) & 0x3f)), byte(0x80 | (c & 0x3f));
    }
  }

  void skip_space() {
    while (i_ < text_.size() &&
           std::string_view(" \t\r\n").find(text_[i_]) != std::string_view::npos)
      ++i_;
  }
  bool consume(char c) {
    skip_space();
    if (i_ < text_.size() && text_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!consume(c)) fail(std::string("expected '") + c + "'");
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("expected/*.json: " + what + " at offset " + std::to_string(i_));
  }

  std::string text_;
  size_t i_ = 0;
};

// What python's dotenv_values() returns for these entries: a dict, so each key sits where it
// first appeared and holds its last value.
Pairs as_python_dict(const std::vector<Entry>& entries) {
  Pairs pairs;
  for (const Entry& e : entries) {
    auto it = std::find_if(pairs.begin(), pairs.end(), [&](auto& p) { return p.first == e.key; });
    if (it == pairs.end()) {
      pairs.emplace_back(e.key, e.value);
    } else {
      it->second = e.value;
    }
  }
  return pairs;
}

std::string show(const std::optional<std::string>& v) {
  return v ? "\"" + *v + "\"" : "None";
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

// The error parse() throws for `text`, or a failure if it parses.
ParseError error_for(std::string_view text, const std::string& file = "t.env") {
  try {
    parse(text, file);
  } catch (const ParseError& e) {
    return e;
  }
  ADD_FAILURE() << "expected a ParseError for: " << text;
  return ParseError(file, 0, 0, "no error");
}

std::optional<std::string> value_of(const std::vector<Entry>& entries, const std::string& key) {
  std::optional<std::string> found;
  for (const Entry& e : entries)
    if (e.key == key) found = e.value;
  return found;
}

// --- Corpus: every good file reads exactly as python-dotenv reads it -----------------------

class GoodCorpus : public ::testing::TestWithParam<std::string> {};

TEST_P(GoodCorpus, MatchesPythonDotenv) {
  const fs::path env = corpus_dir() / (GetParam() + ".env");
  const Pairs expected =
      ExpectedReader(read_bytes(corpus_dir() / "expected" / (GetParam() + ".json"))).read();
  const Pairs actual = as_python_dict(parse(read_bytes(env), env.filename().string()));

  ASSERT_EQ(actual.size(), expected.size()) << "number of keys in " << env;
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE("key #" + std::to_string(i) + " (" + expected[i].first + ")");
    EXPECT_EQ(actual[i].first, expected[i].first);
    EXPECT_EQ(show(actual[i].second), show(expected[i].second));
  }
}

INSTANTIATE_TEST_SUITE_P(Dotenv, GoodCorpus, ::testing::ValuesIn(env_files(corpus_dir())),
                         test_name);

// --- Corpus: every bad file fails with exactly the expected message -------------------------

class BadCorpus : public ::testing::TestWithParam<std::string> {};

TEST_P(BadCorpus, ThrowsTheExpectedError) {
  const fs::path dir = corpus_dir() / "bad";
  std::string expected = read_bytes(dir / (GetParam() + ".expected-error"));
  if (expected.ends_with('\n')) expected.pop_back();

  ParseError error = error_for(read_bytes(dir / (GetParam() + ".env")), GetParam() + ".env");
  EXPECT_EQ(error.what(), expected);
  // Every secret-looking value in bad/ starts with the canary "Zq".
  EXPECT_THAT(error.what(), Not(HasSubstr("Zq")));
}

INSTANTIATE_TEST_SUITE_P(Dotenv, BadCorpus, ::testing::ValuesIn(env_files(corpus_dir() / "bad")),
                         test_name);

TEST(DotenvCorpus, IsPresentAndComplete) {
  ASSERT_TRUE(fs::is_directory(corpus_dir())) << corpus_dir();
  EXPECT_GE(env_files(corpus_dir()).size(), 12u);
  EXPECT_GE(env_files(corpus_dir() / "bad").size(), 10u);
  for (const auto& name : env_files(corpus_dir()))
    EXPECT_TRUE(fs::exists(corpus_dir() / "expected" / (name + ".json")))
        << name << ": run generate_expected.py";
  for (const auto& name : env_files(corpus_dir() / "bad"))
    EXPECT_TRUE(fs::exists(corpus_dir() / "bad" / (name + ".expected-error"))) << name;
}

// --- Secrets never reach error messages -----------------------------------------------------

TEST(DotenvErrors, NeverEchoAnyPartOfTheValue) {
  const std::string secret = "Zq9xK7vWp3Jm";
  const std::vector<std::string> malformed = {
      "SECRET=\"" + secret,                  // unterminated double quote
      "SECRET='" + secret + "\nNEXT=1",      // unterminated single quote
      "SECRET=\"" + secret + "\" trailing",  // text after the closing quote
      "SECRET=\"" + secret + "\nB=\"x\"",    // quote closed on a later line, then garbage
      "SECRET " + secret,                    // missing '='
      "SECRET: " + secret,                   // YAML habit
      "=" + secret,                          // missing key
      "export =" + secret,                   // export without a key
      "''=" + secret,                        // empty quoted key
      "'SECRET=" + secret,                   // unterminated quoted key
      "'SECRET\n" + secret + "'=1",          // quoted key swallowing a line
      "\"SECRET\"=" + secret,                // quotes inside a key
      "'SECRET=" + secret + "'=1",           // '=' inside a quoted key
      "SECRET=" + secret.substr(0, 4) + "\xff" + secret.substr(4),  // invalid UTF-8
  };
  for (const std::string& text : malformed) {
    SCOPED_TRACE(text);
    const std::string what = error_for(text).what();
    for (size_t len = 3; len <= secret.size(); ++len)
      for (size_t at = 0; at + len <= secret.size(); ++at)
        EXPECT_THAT(what, Not(HasSubstr(secret.substr(at, len))));
  }
}

// Deliberate difference: python-dotenv accepts these keys silently (README.md, "Keys").
TEST(DotenvErrors, RejectsKeysNoOneMeans) {
  EXPECT_EQ(error_for("O'Brien=1").message(),
            "invalid key: contains a quote character (only a whole key may be quoted, with single "
            "quotes)");
  EXPECT_EQ(error_for("A\177B=1").message(), "invalid key: contains a control character");
  EXPECT_EQ(error_for("X=1\n'A=B'=1").line(), 2);
  // ...while keys python-dotenv accepts and that are plausible stay accepted.
  const auto entries = parse("'my key'=1\nA.b-c/d@e$f=2\nexport=3\n", "t.env");
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].key, "my key");
  EXPECT_EQ(entries[1].key, "A.b-c/d@e$f");
  EXPECT_EQ(entries[2].key, "export");
}

// --- Positions ------------------------------------------------------------------------------

TEST(DotenvPositions, EntriesKeepFileOrderDuplicatesAndKeyPositions) {
  const auto entries = parse(
      "A=1\n"
      "  export  KEY=2\n"
      "\n"
      "'QUOTED'=3\n"
      "M=\"multi\n"
      "line\"\n"
      "A=4\n",
      "t.env");
  ASSERT_EQ(entries.size(), 5u);
  const std::vector<std::tuple<std::string, int, int>> want = {
      {"A", 1, 1}, {"KEY", 2, 11}, {"QUOTED", 4, 1}, {"M", 5, 1}, {"A", 7, 1}};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(entries[i].key, std::get<0>(want[i]));
    EXPECT_EQ(entries[i].line, std::get<1>(want[i])) << entries[i].key;
    EXPECT_EQ(entries[i].column, std::get<2>(want[i])) << entries[i].key;
  }
  EXPECT_EQ(value_of(entries, "A"), "4");  // the later duplicate wins a lookup
}

TEST(DotenvPositions, ColumnsCountCharactersAndCrlfIsOneLineBreak) {
  // Line 2 starts with NBSP and U+3000 (both whitespace to python-dotenv): KEY is column 3.
  const auto entries = parse("A=1\r\n\xc2\xa0\xe3\x80\x80KEY=\"\xc3\xa9\"\r\n", "t.env");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].line, 2);
  EXPECT_EQ(entries[1].column, 3);
  EXPECT_EQ(entries[1].value, "\xc3\xa9");

  ParseError error = error_for("A=1\r\n\xc3\xa9\xc3\xa9=\"x\" junk\r\n");
  EXPECT_EQ(error.line(), 2);
  EXPECT_EQ(error.column(), 8);  // é é = " x " space j: counted in characters, not bytes
}

TEST(DotenvPositions, ParseErrorCarriesItsParts) {
  ParseError error = error_for("A=1\nAPI_KEY=\"zz\n", "conf/app.env");
  EXPECT_EQ(error.file(), "conf/app.env");
  EXPECT_EQ(error.line(), 2);
  EXPECT_EQ(error.column(), 12);
  EXPECT_EQ(error.message(), "API_KEY: unterminated double-quoted value (opened at 2:9)");
  EXPECT_STREQ(error.what(), ("conf/app.env:2:12: error: " + error.message()).c_str());
}

// --- Interpolation and the environment ------------------------------------------------------

TEST(DotenvInterpolation, EarlierFileValuesBeatTheEnvironmentWhichBeatsDefaults) {
  std::vector<std::string> asked;
  auto environ_lookup = [&](const std::string& name) -> std::optional<std::string> {
    asked.push_back(name);
    if (name == "HOST" || name == "ONLY_ENV") return "from-env";
    if (name == "EMPTY_ENV") return "";
    return std::nullopt;
  };
  const auto entries = parse(
      "BEFORE=${HOST}\n"
      "HOST=from-file\n"
      "AFTER=${HOST}\n"
      "ENV=${ONLY_ENV:-default}\n"
      "EMPTY=${EMPTY_ENV:-default}\n"
      "MISSING=${NOWHERE:-default}\n"
      "BARE\n"
      "SHADOWED=[${BARE:-default}]\n",
      "t.env", environ_lookup);
  EXPECT_EQ(value_of(entries, "BEFORE"), "from-env");  // HOST was not bound yet
  EXPECT_EQ(value_of(entries, "AFTER"), "from-file");
  EXPECT_EQ(value_of(entries, "ENV"), "from-env");
  EXPECT_EQ(value_of(entries, "EMPTY"), "");  // bound to "", so the default does not apply
  EXPECT_EQ(value_of(entries, "MISSING"), "default");
  EXPECT_EQ(value_of(entries, "SHADOWED"), "[]");  // a bare key shadows the environment
  EXPECT_EQ(std::count(asked.begin(), asked.end(), "BARE"), 0);
  EXPECT_EQ(std::count(asked.begin(), asked.end(), "HOST"), 1);
}

TEST(DotenvInterpolation, EnvironmentValuesAreInsertedVerbatim) {
  auto environ_lookup = [](const std::string& name) -> std::optional<std::string> {
    if (name == "TEMPLATE") return "${OTHER} \\n 'q'";
    return std::nullopt;
  };
  EXPECT_EQ(value_of(parse("A=\"<${TEMPLATE}>\"", "t.env", environ_lookup), "A"),
            "<${OTHER} \\n 'q'>");
}

// Deliberate difference: python-dotenv 0.21 interpolates single-quoted values too (it would
// give B="1" and D="" below; upstream issue theskumar/python-dotenv#422).
TEST(DotenvInterpolation, SingleQuotedValuesStayLiteral) {
  const auto entries = parse(
      "A=1\n"
      "B='${A}'\n"
      "C=\"${A}\"\n"
      "D=${B}\n",
      "t.env");
  EXPECT_EQ(value_of(entries, "B"), "${A}");
  EXPECT_EQ(value_of(entries, "C"), "1");
  EXPECT_EQ(value_of(entries, "D"), "${A}");  // a bound value is never expanded twice
}

// --- Other deliberate differences and input handling ----------------------------------------

// python-dotenv keeps a UTF-8 BOM and glues it to the first key ("\ufeffA").
TEST(DotenvInput, LeadingByteOrderMarkIsIgnored) {
  const auto entries = parse(
      "\xef\xbb\xbf"
      "A=1\n"
      "B=\xef\xbb\xbf\n",
      "t.env");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].key, "A");
  EXPECT_EQ(entries[0].column, 1);
  EXPECT_EQ(entries[1].value, "\xef\xbb\xbf");  // only a leading BOM is special
}

// parse() sees text as python-dotenv sees a file opened in text mode (universal newlines).
TEST(DotenvInput, InMemoryTextGetsFileNewlineHandling) {
  const auto entries = parse("A=\"x\r\ny\rz\"\rB=2", "t.env");
  EXPECT_EQ(value_of(entries, "A"), "x\ny\nz");
  EXPECT_EQ(value_of(entries, "B"), "2");
}

TEST(DotenvInput, EmptyAndCommentOnlyTextHaveNoEntries) {
  EXPECT_TRUE(parse("", "t.env").empty());
  EXPECT_TRUE(parse(" \n\t\n# c\n  # c\n", "t.env").empty());
}

TEST(DotenvInput, RejectsMalformedUtf8LikePythonDoes) {
  for (const char* text : {"A=\xc0\xaf", "A=\xed\xa0\x80", "A=\xf4\x90\x80\x80", "A=\xe2\x82"}) {
    ParseError error = error_for(text);
    EXPECT_EQ(error.line(), 1) << text;
    EXPECT_EQ(error.column(), 3) << text;
    EXPECT_EQ(error.message(), "invalid UTF-8 byte sequence");
  }
  EXPECT_EQ(value_of(parse("A=\xf0\x9f\x98\x80", "t.env"), "A"), "\xf0\x9f\x98\x80");
}

// --- Files ----------------------------------------------------------------------------------

TEST(DotenvFile, ReadsAFileLikeParseReadsItsText) {
  const fs::path path = corpus_dir() / "crlf.env";
  const auto from_file = parse_file(path);
  const auto from_text = parse(read_bytes(path), "crlf.env");
  ASSERT_EQ(from_file.size(), from_text.size());
  for (size_t i = 0; i < from_file.size(); ++i) {
    EXPECT_EQ(from_file[i].key, from_text[i].key);
    EXPECT_EQ(from_file[i].value, from_text[i].value);
    EXPECT_EQ(from_file[i].line, from_text[i].line);
  }
}

TEST(DotenvFile, ErrorsNameThePathGiven) {
  const fs::path path = corpus_dir() / "bad" / "missing_key.env";
  try {
    parse_file(path);
    FAIL() << "expected a ParseError";
  } catch (const ParseError& e) {
    EXPECT_EQ(e.file(), path.string());
    EXPECT_EQ(e.line(), 2);
  }
}

TEST(DotenvFile, UnreadableFileIsAParseErrorAtLineZero) {
  const fs::path missing = corpus_dir() / "does-not-exist.env";
  try {
    parse_file(missing);
    FAIL() << "expected a ParseError";
  } catch (const ParseError& e) {
    EXPECT_EQ(e.line(), 0);
    EXPECT_EQ(e.column(), 0);
    EXPECT_EQ(e.message(), "No such file or directory");
    EXPECT_EQ(std::string(e.what()), missing.string() + ":0:0: error: No such file or directory");
  }
  try {
    parse_file(corpus_dir());
    FAIL() << "expected a ParseError";
  } catch (const ParseError& e) {
    EXPECT_EQ(e.message(), "Is a directory");
  }
}

}  // namespace
}  // namespace deploycheck::dotenv
