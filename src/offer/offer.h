// Offer expressions: which products a campaign promotes, written over product attributes.
//
//   product_category = "SOFT DRINKS"
//   brand in ("A", "B") and department != "PRODUCE"
//   product_id in (1, 2, 3)
//   department = "PRODUCE" and not product_type = "BANANAS"
//   price >= 10
//   any
//
// Grammar (keywords any/and/or/not/in are case-insensitive):
//   offer      := or
//   or         := and ("or" and)*
//   and        := unary ("and" unary)*
//   unary      := "not" unary | "(" or ")" | "any" | comparison
//   comparison := NAME ("=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=") value
//               | NAME ["not"] "in" "(" value ("," value)* ")"
//   value      := "double-quoted" | 'single-quoted' | number | bare-word
// NAME is a product attribute or product_id. Ordering operators compare numbers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "data/dataset.h"
#include "offer/product_set.h"

namespace cf::offer {

enum class Op { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn };

struct Expr {
  enum class Kind { kAny, kCompare, kAnd, kOr, kNot };
  Kind kind = Kind::kAny;
  std::string column;               // kCompare: attribute name
  Op op = Op::kEq;                  // kCompare
  std::vector<std::string> values;  // kCompare: one value, or the list of in / not in
  std::vector<Expr> children;       // kAnd, kOr (two or more), kNot (one)
  size_t position = 0;              // 1-based column of the expression in the text
};

// Parses an offer; errors say "column N: expected ..., found ...".
Result<Expr> ParseOffer(std::string_view text);

// The products the expression covers. Unknown attributes are errors naming the valid ones;
// an offer that matches no product is an error (it would be an empty audience).
Result<ProductSet> CompileOffer(const Expr& expr, const data::Catalog& catalog, std::string name);
Result<ProductSet> CompileOffer(std::string_view text, const data::Catalog& catalog);

}  // namespace cf::offer
