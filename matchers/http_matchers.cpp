#include "matchers/http_matchers.hpp"

namespace deploycheck {
namespace {

using ::testing::MatchResultListener;

class HasStatusMatcher : public ::testing::MatcherInterface<const HttpResponse&> {
 public:
  explicit HasStatusMatcher(long status) : status_(status) {}
  bool MatchAndExplain(const HttpResponse& r, MatchResultListener* l) const override {
    *l << "whose status is " << r.status;
    if (r.status != status_ && !r.body.empty()) {
      *l << " and whose body begins \"" << r.body.substr(0, 120) << "\"";
    }
    return r.status == status_;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "answers with HTTP status " << status_;
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "does not answer with HTTP status " << status_;
  }

 private:
  long status_;
};

class RespondsWithinMatcher : public ::testing::MatcherInterface<const HttpResponse&> {
 public:
  explicit RespondsWithinMatcher(Duration bound) : bound_(bound) {}
  bool MatchAndExplain(const HttpResponse& r, MatchResultListener* l) const override {
    const auto& t = r.timings;
    *l << "which took " << t.total << " ms (connect " << t.connect << ", TLS " << t.tls
       << ", first byte " << t.first_byte << ")";
    return t.total <= static_cast<double>(bound_.count());
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "responds within " << format_duration(bound_);
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "takes longer than " << format_duration(bound_);
  }

 private:
  Duration bound_;
};

class BodyContainsMatcher : public ::testing::MatcherInterface<const HttpResponse&> {
 public:
  explicit BodyContainsMatcher(std::string text) : text_(std::move(text)) {}
  bool MatchAndExplain(const HttpResponse& r, MatchResultListener* l) const override {
    const bool found = r.body.find(text_) != std::string::npos;
    *l << "whose body" << (r.body_truncated ? " (truncated)" : "") << " is \""
       << r.body.substr(0, 200) << (r.body.size() > 200 ? "..." : "") << "\"";
    return found;
  }
  void DescribeTo(std::ostream* os) const override {
    *os << "has a body containing \"" << text_ << "\"";
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "has a body not containing \"" << text_ << "\"";
  }

 private:
  std::string text_;
};

class IsTrustedMatcher : public ::testing::MatcherInterface<const HttpResponse&> {
 public:
  bool MatchAndExplain(const HttpResponse& r, MatchResultListener* l) const override {
    if (r.tls_error) {
      *l << "whose certificate was rejected: " << *r.tls_error;
      return false;
    }
    *l << (r.url.rfind("https://", 0) == 0 ? "whose certificate verified" : "which is plain HTTP");
    return true;
  }
  void DescribeTo(std::ostream* os) const override { *os << "presents a trusted certificate"; }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "presents an untrusted certificate";
  }
};

}  // namespace

HttpMatcher HasStatus(long status) {
  return HttpMatcher(new HasStatusMatcher(status));
}
HttpMatcher RespondsWithin(Duration bound) {
  return HttpMatcher(new RespondsWithinMatcher(bound));
}
HttpMatcher BodyContains(std::string text) {
  return HttpMatcher(new BodyContainsMatcher(std::move(text)));
}
HttpMatcher IsTrusted() {
  return HttpMatcher(new IsTrustedMatcher());
}

}  // namespace deploycheck
