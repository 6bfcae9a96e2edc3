// Offer and customer-audience expressions (plan/audience_filter.h parses with the same
// grammar): any bytes either parse or give an error, never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "offer/offer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto expr = cf::offer::ParseOffer(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!expr.has_value()) (void)expr.error().message();
  return 0;
}
