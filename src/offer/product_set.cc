#include "offer/product_set.h"

#include <utility>

namespace cf::offer {

ProductSet ProductSet::Any(uint32_t num_products) {
  ProductSet set;
  set.name = "any";
  set.any = true;
  set.members.assign(num_products, 1);
  set.count = num_products;
  return set;
}

ProductSet ProductSet::FromMembers(std::string name, std::vector<uint8_t> members) {
  ProductSet set;
  set.name = std::move(name);
  set.members = std::move(members);
  for (uint8_t m : set.members) {
    set.count += m != 0 ? 1 : 0;
  }
  return set;
}

}  // namespace cf::offer
