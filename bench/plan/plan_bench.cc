// Times campaign audiences (SelectCustomers), the opt-in check and ranked audiences over a
// dataset of N customers. Usage: plan_bench N WORK_DIR (the dataset is built once in WORK_DIR).
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "base/files.h"
#include "base/hash.h"
#include "data/dataset.h"
#include "data/ingest.h"
#include "plan/audience_filter.h"
#include "plan/curve.h"

namespace {

using cf::Status;

// The best of `runs` wall times of `f`, in milliseconds.
double BestMs(int runs, const std::function<void()>& f) {
  double best = 1e300;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

Status BuildDataset(uint32_t n, const std::string& work) {
  if (cf::PathExists(work + "/ds/dataset.json")) return Status::OK();
  CF_RETURN_IF_ERROR(cf::CreateDirectories(work));
  static const char* kRegions[] = {"North", "South", "East", "West", "Capital"};
  std::string customers = "customer_id,region,age,opt_in_email\n", events = "customer_id,time,product_id\n";
  uint64_t state = 7;
  for (uint32_t c = 0; c < n; ++c) {
    const uint64_t h = cf::SplitMix64(state);
    customers += fmt::format("c{},{},{},{}\n", c, kRegions[h % 5], 18 + (h >> 8) % 70, (h >> 16) % 3 ? "true" : "no");
    events += fmt::format("c{},2024-01-01,p{}\n", c, (h >> 24) % 100);
  }
  CF_RETURN_IF_ERROR(cf::WriteFileAtomic(work + "/customers.csv", customers));
  CF_RETURN_IF_ERROR(cf::WriteFileAtomic(work + "/events.csv", events));
  cf::data::IngestOptions o;
  o.events.path = work + "/events.csv";
  o.customers.path = work + "/customers.csv";
  o.out = work + "/ds";
  auto r = cf::data::Ingest(o);
  return r.has_value() ? Status::OK() : r.error();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: plan_bench CUSTOMERS WORK_DIR\n");
    return 1;
  }
  const uint32_t n = static_cast<uint32_t>(std::strtoul(argv[1], nullptr, 10));
  const std::string work = argv[2];
  if (Status s = BuildDataset(n, work); !s.ok()) {
    std::fprintf(stderr, "plan_bench: %s\n", s.message().c_str());
    return 1;
  }
  auto ds = cf::data::Dataset::Open(work + "/ds");
  if (!ds.has_value()) {
    std::fprintf(stderr, "plan_bench: %s\n", ds.error().message().c_str());
    return 1;
  }
  const cf::data::Customers& people = (*ds)->customers();
  std::printf("%u customers\n", people.size());
  for (const char* expr : {"region != \"North\"", "region in (North, South) and age >= 40 and not opt_in_email = no"}) {
    size_t selected = 0;
    const double ms = BestMs(5, [&] {
      auto m = cf::plan::SelectCustomers(expr, people);
      selected = 0;
      for (uint8_t x : m.value()) selected += x;
    });
    std::printf("SelectCustomers(%s): %.1f ms, %zu selected\n", expr, ms, selected);
  }
  size_t opted = 0;
  const double opt_ms = BestMs(5, [&] {
    const cf::data::Attribute* column = cf::plan::OptInColumn(people, cf::plan::Channel::kEmail);
    opted = 0;
    for (uint32_t c = 0; c < people.size(); ++c) opted += cf::plan::IsOptedIn(*column, c);
  });
  std::printf("OptInColumn + IsOptedIn for every customer: %.1f ms, %zu opted in\n", opt_ms, opted);
  std::vector<double> p(people.size()), rev(people.size());
  uint64_t state = 3;
  for (size_t c = 0; c < p.size(); ++c) {
    p[c] = cf::UnitInterval(cf::SplitMix64(state)) * 0.3;
    rev[c] = p[c] * 12.5;
  }
  uint64_t size = 0;
  const double rank_ms = BestMs(3, [&] {
    auto r = cf::plan::RankedAudience::Build(p, rev, {});
    const auto curve = r->Curve({.points = 20}).value();
    size = r->SizeForCaptureShare(0.5) + curve.size() - 20;
  });
  std::printf("RankedAudience::Build + Curve(20) + SizeForCaptureShare: %.1f ms (half the buyers: %llu customers)\n",
              rank_ms, static_cast<unsigned long long>(size));
  return 0;
}
