// Plan files (plan/plan_file.h): any bytes either parse and validate, or give an error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "plan/plan_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto plan = cf::plan::ParsePlan(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
  if (!plan.has_value()) (void)plan.error().message();
  return 0;
}
