// What an offer compiles to: the set of catalog products it covers, or "any purchase".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace cf::offer {

struct ProductSet {
  std::string name;              // the expression it came from, for reports
  bool any = false;              // every purchase counts, with or without a product
  std::vector<uint8_t> members;  // members[p] != 0 when product p is in the set (unless any)
  uint64_t count = 0;            // number of member products

  bool Contains(uint32_t product) const {
    return any || (product != data::kNoProduct && product < members.size() && members[product] != 0);
  }
  static ProductSet Any(uint32_t num_products);
  static ProductSet FromMembers(std::string name, std::vector<uint8_t> members);
};

}  // namespace cf::offer
