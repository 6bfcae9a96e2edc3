#include "offer/offer.h"

#include <fmt/format.h>

#include <cctype>
#include <unordered_set>

#include "base/strings.h"

namespace cf::offer {
namespace {

enum class Tok { kEnd, kName, kString, kNumber, kLParen, kRParen, kComma, kOp };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;
  size_t position = 0;  // 1-based column
};

std::string Describe(const Token& t) {
  switch (t.kind) {
    case Tok::kEnd:
      return "the end of the offer";
    case Tok::kString:
      return "\"" + t.text + "\"";
    default:
      return "'" + t.text + "'";
  }
}

// ASCII letters, digits and a few joiners, and every byte of a multi-byte UTF-8 character, so
// that a catalog's own words are names as they are ("카테고리 = 과일", "größe = XL"); the input is
// UTF-8 (ingest checks it), and no operator or quote is a byte above 0x7F.
bool IsNameChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x80 || std::isalnum(u) != 0 || c == '_' || c == '.' || c == '-' || c == '/' || c == '&' || c == '+';
}

Result<std::vector<Token>> Lex(std::string_view s) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    const size_t pos = i + 1;
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      ++i;
    } else if (c == '"' || c == '\'') {
      std::string text;
      size_t j = i + 1;
      bool closed = false;
      while (j < s.size()) {
        if (s[j] == c && j + 1 < s.size() && s[j + 1] == c) {  // doubled quote = literal quote
          text += c;
          j += 2;
        } else if (s[j] == c) {
          closed = true;
          ++j;
          break;
        } else {
          text += s[j++];
        }
      }
      if (!closed) {
        return Err(Status::InvalidArgument(
            fmt::format("offer: column {}: expected a closing {} for the value that starts here", pos, c)));
      }
      tokens.push_back({Tok::kString, std::move(text), pos});
      i = j;
    } else if (c == '(' || c == ')' || c == ',') {
      tokens.push_back({c == '(' ? Tok::kLParen : c == ')' ? Tok::kRParen : Tok::kComma, std::string(1, c), pos});
      ++i;
    } else if (c == '=' || c == '!' || c == '<' || c == '>') {
      std::string op(1, c);
      if (i + 1 < s.size() && (s[i + 1] == '=' || (c == '<' && s[i + 1] == '>'))) {
        op += s[i + 1];
      }
      if (op == "!") {
        return Err(Status::InvalidArgument(fmt::format("offer: column {}: expected '!=' but found '!' alone", pos)));
      }
      tokens.push_back({Tok::kOp, op, pos});
      i += op.size();
    } else if (IsNameChar(c)) {
      size_t j = i;
      while (j < s.size() && IsNameChar(s[j])) {
        ++j;
      }
      std::string text(s.substr(i, j - i));
      const bool number = ParseDouble(text).has_value();
      tokens.push_back({number ? Tok::kNumber : Tok::kName, std::move(text), pos});
      i = j;
    } else {
      return Err(Status::InvalidArgument(fmt::format(
          "offer: column {}: unexpected character '{}'; expected a name, a quoted value, a comparison or a parenthesis",
          pos, c)));
    }
  }
  tokens.push_back({Tok::kEnd, "", s.size() + 1});
  return tokens;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Result<Expr> Parse() {
    CF_ASSIGN_OR_RETURN(Expr e, ParseOr());
    if (Peek().kind != Tok::kEnd) {
      return Error("'and', 'or' or the end of the offer");
    }
    return e;
  }

 private:
  const Token& Peek() const { return tokens_[pos_]; }
  bool IsKeyword(const Token& t, std::string_view word) const {
    return t.kind == Tok::kName && ToLower(t.text) == word;
  }
  std::unexpected<Status> Error(std::string_view expected) const {
    return Err(Status::InvalidArgument(
        fmt::format("offer: column {}: expected {}, found {}", Peek().position, expected, Describe(Peek()))));
  }

  Result<Expr> ParseOr() {
    CF_ASSIGN_OR_RETURN(Expr first, ParseAnd());
    if (!IsKeyword(Peek(), "or")) {
      return first;
    }
    Expr e;
    e.kind = Expr::Kind::kOr;
    e.position = first.position;
    e.children.push_back(std::move(first));
    while (IsKeyword(Peek(), "or")) {
      ++pos_;
      CF_ASSIGN_OR_RETURN(Expr next, ParseAnd());
      e.children.push_back(std::move(next));
    }
    return e;
  }

  Result<Expr> ParseAnd() {
    CF_ASSIGN_OR_RETURN(Expr first, ParseUnary());
    if (!IsKeyword(Peek(), "and")) {
      return first;
    }
    Expr e;
    e.kind = Expr::Kind::kAnd;
    e.position = first.position;
    e.children.push_back(std::move(first));
    while (IsKeyword(Peek(), "and")) {
      ++pos_;
      CF_ASSIGN_OR_RETURN(Expr next, ParseUnary());
      e.children.push_back(std::move(next));
    }
    return e;
  }

  Result<Expr> ParseUnary() {
    const Token& t = Peek();
    if (IsKeyword(t, "not")) {
      ++pos_;
      CF_ASSIGN_OR_RETURN(Expr inner, ParseUnary());
      Expr e;
      e.kind = Expr::Kind::kNot;
      e.position = t.position;
      e.children.push_back(std::move(inner));
      return e;
    }
    if (t.kind == Tok::kLParen) {
      ++pos_;
      CF_ASSIGN_OR_RETURN(Expr inner, ParseOr());
      if (Peek().kind != Tok::kRParen) {
        return Error("')' to close the '(' at column " + std::to_string(t.position));
      }
      ++pos_;
      return inner;
    }
    if (IsKeyword(t, "any")) {
      ++pos_;
      Expr e;
      e.position = t.position;
      return e;
    }
    if (t.kind != Tok::kName || IsKeyword(t, "and") || IsKeyword(t, "or") || IsKeyword(t, "in")) {
      return Error("an attribute name (e.g. product_category), 'any', 'not' or '('");
    }
    return ParseComparison();
  }

  Result<Expr> ParseComparison() {
    Expr e;
    e.kind = Expr::Kind::kCompare;
    e.column = Peek().text;
    e.position = Peek().position;
    ++pos_;
    const Token& op = Peek();
    if (IsKeyword(op, "in") || IsKeyword(op, "not")) {
      e.op = Op::kIn;
      if (IsKeyword(op, "not")) {
        e.op = Op::kNotIn;
        ++pos_;
        if (!IsKeyword(Peek(), "in")) {
          return Error("'in' after 'not'");
        }
      }
      ++pos_;
      if (Peek().kind != Tok::kLParen) {
        return Error("'(' to start the list of values");
      }
      ++pos_;
      while (true) {
        CF_ASSIGN_OR_RETURN(std::string v, ParseValue());
        e.values.push_back(std::move(v));
        if (Peek().kind == Tok::kComma) {
          ++pos_;
          continue;
        }
        if (Peek().kind == Tok::kRParen) {
          ++pos_;
          break;
        }
        return Error("',' or ')' in the list of values");
      }
      return e;
    }
    if (op.kind != Tok::kOp) {
      return Error(fmt::format("a comparison after '{}' (=, !=, <, <=, >, >=, in, not in)", e.column));
    }
    static const std::pair<std::string_view, Op> kOps[] = {{"=", Op::kEq},  {"==", Op::kEq}, {"!=", Op::kNe},
                                                           {"<>", Op::kNe}, {"<", Op::kLt},  {"<=", Op::kLe},
                                                           {">", Op::kGt},  {">=", Op::kGe}};
    for (const auto& [text, value] : kOps) {
      if (op.text == text) {
        e.op = value;
      }
    }
    ++pos_;
    CF_ASSIGN_OR_RETURN(std::string v, ParseValue());
    e.values.push_back(std::move(v));
    return e;
  }

  Result<std::string> ParseValue() {
    const Token& t = Peek();
    if (t.kind == Tok::kString || t.kind == Tok::kNumber ||
        (t.kind == Tok::kName && !IsKeyword(t, "and") && !IsKeyword(t, "or") && !IsKeyword(t, "not"))) {
      ++pos_;
      return t.text;
    }
    return Error("a value (a quoted string or a number)");
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

class Compiler {
 public:
  explicit Compiler(const data::Catalog& catalog) : catalog_(catalog) {}

  Result<std::vector<uint8_t>> Eval(const Expr& e) {
    const uint32_t n = catalog_.size();
    switch (e.kind) {
      case Expr::Kind::kAny:
        return std::vector<uint8_t>(n, 1);
      case Expr::Kind::kNot: {
        CF_ASSIGN_OR_RETURN(std::vector<uint8_t> m, Eval(e.children[0]));
        for (uint8_t& x : m) {
          x = x != 0 ? 0 : 1;
        }
        return m;
      }
      case Expr::Kind::kAnd:
      case Expr::Kind::kOr: {
        CF_ASSIGN_OR_RETURN(std::vector<uint8_t> m, Eval(e.children[0]));
        for (size_t c = 1; c < e.children.size(); ++c) {
          CF_ASSIGN_OR_RETURN(std::vector<uint8_t> o, Eval(e.children[c]));
          for (uint32_t p = 0; p < n; ++p) {
            m[p] = e.kind == Expr::Kind::kAnd ? (m[p] & o[p]) : (m[p] | o[p]);
          }
        }
        return m;
      }
      case Expr::Kind::kCompare:
        return Compare(e);
    }
    return Err(Status::Internal("unknown offer expression kind"));
  }

  const std::vector<std::string>& unknown_values() const { return unknown_; }

 private:
  Result<std::vector<uint8_t>> Compare(const Expr& e) {
    const uint32_t n = catalog_.size();
    const data::Attribute* attr = catalog_.FindAttribute(e.column);
    const bool is_id = attr == nullptr && (e.column == "product_id" || e.column == "product");
    if (attr == nullptr && !is_id) {
      std::string valid = "product_id";
      for (const data::Attribute& a : catalog_.attributes()) {
        valid += ", " + a.name;
      }
      return Err(Status::InvalidArgument(fmt::format(
          "offer: column {}: unknown product attribute '{}'; expected one of {}", e.position, e.column, valid)));
    }
    auto value_of = [&](uint32_t p) { return is_id ? catalog_.product_id(p) : attr->value(p); };
    std::vector<uint8_t> m(n, 0);
    if (e.op == Op::kLt || e.op == Op::kLe || e.op == Op::kGt || e.op == Op::kGe) {
      const std::optional<double> bound = ParseDouble(e.values[0]);
      if (!bound.has_value()) {
        return Err(Status::InvalidArgument(fmt::format(
            "offer: column {}: expected a number to compare {} with, found '{}'", e.position, e.column, e.values[0])));
      }
      for (uint32_t p = 0; p < n; ++p) {
        const std::optional<double> v = ParseDouble(value_of(p));
        if (!v.has_value()) {
          continue;
        }
        const bool hit = e.op == Op::kLt   ? *v < *bound
                         : e.op == Op::kLe ? *v <= *bound
                         : e.op == Op::kGt ? *v > *bound
                                           : *v >= *bound;
        m[p] = hit ? 1 : 0;
      }
      return m;
    }
    const std::unordered_set<std::string_view> values(e.values.begin(), e.values.end());
    std::unordered_set<std::string_view> seen;
    for (uint32_t p = 0; p < n; ++p) {
      const std::string_view v = value_of(p);
      if (values.contains(v)) {
        m[p] = 1;
        seen.insert(v);
      }
    }
    for (const std::string& v : e.values) {
      if (!seen.contains(v)) {
        unknown_.push_back(fmt::format("'{}' is not a value of {}", v, e.column));
      }
    }
    if (e.op == Op::kNe || e.op == Op::kNotIn) {
      for (uint8_t& x : m) {
        x = x != 0 ? 0 : 1;
      }
    }
    return m;
  }

  const data::Catalog& catalog_;
  std::vector<std::string> unknown_;
};

}  // namespace

Result<Expr> ParseOffer(std::string_view text) {
  if (Trim(text).empty()) {
    return Err(Status::InvalidArgument(
        "offer: column 1: expected an offer expression (e.g. department = \"PRODUCE\" or any), found nothing"));
  }
  CF_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(text));
  return Parser(std::move(tokens)).Parse();
}

Result<ProductSet> CompileOffer(const Expr& expr, const data::Catalog& catalog, std::string name) {
  if (expr.kind == Expr::Kind::kAny) {
    ProductSet set = ProductSet::Any(catalog.size());
    set.name = std::move(name);
    return set;
  }
  Compiler compiler(catalog);
  CF_ASSIGN_OR_RETURN(std::vector<uint8_t> members, compiler.Eval(expr));
  ProductSet set = ProductSet::FromMembers(name, std::move(members));
  if (set.count == 0) {
    // Misspelt values are the usual cause, so name them.
    const std::string why = compiler.unknown_values().empty() ? "" : " (" + Join(compiler.unknown_values(), "; ") + ")";
    return Err(Status::InvalidArgument(fmt::format("offer '{}' matches no product{}", name, why)));
  }
  return set;
}

Result<ProductSet> CompileOffer(std::string_view text, const data::Catalog& catalog) {
  CF_ASSIGN_OR_RETURN(Expr expr, ParseOffer(text));
  return CompileOffer(expr, catalog, std::string(Trim(text)));
}

}  // namespace cf::offer
