// top-offers: every customer's best N of a few named offers, the per-customer view that fills
// a newsletter's slots.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "apps/audience/commands.h"
#include "base/files.h"
#include "base/strings.h"
#include "base/time.h"
#include "data/dataset.h"
#include "model/event_log.h"
#include "model/top_offers.h"
#include "model/universal.h"

namespace cf::cli {
namespace {

struct TopOffersFlags {
  std::string data, model_dir, offers, out, at, by = "expected-revenue";
  model::TopOffersOptions options;
  int threads = 0;
};

// The file this command writes starts with its own header.
bool IsTopOffers(const std::string& path) { return StartsWith(FileHead(path, 64), "customer,offer_1,"); }

Status RunTopOffers(const TopOffersFlags& f) {
  model::TopOffersOptions options = f.options;
  if (f.by == "expected-revenue") {
    options.order = model::TopOffersOrder::kExpectedRevenue;
  } else if (f.by == "probability") {
    options.order = model::TopOffersOrder::kProbability;
  } else {
    return Status::InvalidArgument(
        fmt::format("--by: unknown order '{}'; expected expected-revenue or probability", f.by));
  }
  if (Status s = options.Validate(); !s.ok()) {
    return s;
  }
  CF_RETURN_IF_ERROR(CheckOutputFile("--out", f.out, "a top-offers CSV written by audience top-offers", IsTopOffers));
  CF_RETURN_IF_ERROR(CheckOutside("--out", f.out, "dataset", f.data));
  CF_RETURN_IF_ERROR(CheckOutside("--out", f.out, "model", f.model_dir));
  CF_ASSIGN_OR_RETURN(const std::optional<int64_t> at, ParseAtFlag(f.at));
  CF_ASSIGN_OR_RETURN(std::string text, ReadFile(f.offers));
  CF_ASSIGN_OR_RETURN(std::vector<model::NamedOffer> named, model::ParseOffers(text, f.offers));
  CF_ASSIGN_OR_RETURN(std::unique_ptr<data::Dataset> ds, data::Dataset::Open(f.data));
  CF_ASSIGN_OR_RETURN(std::vector<offer::ProductSet> offers, model::CompileOffers(named, ds->catalog(), f.offers));
  CF_ASSIGN_OR_RETURN(std::unique_ptr<model::UniversalModel> m,
                      model::UniversalModel::Load(f.model_dir, ds->catalog(), f.threads));
  const model::EventLog log = model::EventLog::FromDataset(*ds);
  const int64_t cutoff = at.value_or(log.last_time() + 1);
  const auto start = std::chrono::steady_clock::now();
  const model::HistoryView history(log, cutoff);
  // Under mpirun each rank chooses for its part of the customers; rank 0 gathers the choices
  // (the parts are contiguous, in rank order) and writes the file.
  m->ShardAcross(Shards());
  std::vector<uint32_t> customers = m->ShardCustomers(history);
  CF_ASSIGN_OR_RETURN(model::TopOffers top, model::ComputeTopOffers(*m, history, offers, customers, options));
  if (Sharded(Shards())) {
    top = model::GatherTopOffers(*Shards(), top);
    customers.resize(log.num_customers());
    std::iota(customers.begin(), customers.end(), 0u);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!IsRoot()) {
    return Status::OK();
  }

  std::string csv = "customer";
  for (size_t k = 1; k <= top.top; ++k) {
    csv += fmt::format(",offer_{0},probability_{0},expected_revenue_{0}", k);
  }
  csv += '\n';
  std::vector<std::string> names;
  for (const model::NamedOffer& o : named) {
    names.push_back(CsvField(o.name));
  }
  std::vector<uint64_t> chosen(named.size(), 0);
  std::vector<double> chosen_revenue(named.size(), 0);
  for (size_t i = 0; i < customers.size(); ++i) {
    for (const model::TopOffer& s : top.Of(i)) {
      ++chosen[s.offer];
      chosen_revenue[s.offer] += s.expected_revenue;
    }
  }
  CF_ASSIGN_OR_RETURN(std::unique_ptr<AtomicFileWriter> file, AtomicFileWriter::Create(f.out));
  CF_RETURN_IF_ERROR(file->Append(csv));
  CF_RETURN_IF_ERROR(WriteRows(
      customers.size(),
      [&](size_t i, std::string* out) {
        AppendCsvField(out, ds->customers().crm_id(customers[i]));
        const std::span<const model::TopOffer> slots = top.Of(i);
        for (size_t k = 0; k < top.top; ++k) {
          if (k < slots.size()) {
            const model::TopOffer& s = slots[k];
            *out += ',';
            *out += names[s.offer];
            *out += ',';
            AppendFixed(out, s.probability, 6);
            *out += ',';
            AppendFixed(out, s.expected_revenue, 4);
          } else {
            *out += ",,,";  // fewer offers passed --min-probability than there are slots
          }
        }
        *out += '\n';
      },
      file.get()));
  CF_RETURN_IF_ERROR(file->Commit());
  std::printf("chose the top %zu of %zu offers by %s for %zu customers in %.3f s (within %d days); wrote %s\n", top.top,
              named.size(), f.by.c_str(), customers.size(), seconds, m->horizon_days(), f.out.c_str());
  std::printf("%-32s %12s %16s\n", "offer", "customers", "expected revenue");
  for (size_t o = 0; o < named.size(); ++o) {
    std::printf("%-32s %12llu %16.2f\n", named[o].name.c_str(), static_cast<unsigned long long>(chosen[o]),
                chosen_revenue[o]);
  }
  return Status::OK();
}

}  // namespace

void AddTopOffersCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<TopOffersFlags>();
  CLI::App* t = app.add_subcommand("top-offers", "Every customer's best N of a few named offers (newsletter slots)");
  t->add_option("--data", flags->data, "Dataset directory written by audience ingest")->required();
  t->add_option("--model", flags->model_dir, "Model directory written by train")->required();
  t->add_option("--offers", flags->offers, "JSON file: [{\"name\": ..., \"offer\": ...}, ...], 1 to 25 offers")
      ->required();
  t->add_option("--top", flags->options.top, "Offers per customer (1 to 25)")
      ->check(WholeNumber(1, 25))
      ->capture_default_str();
  t->add_option("--min-probability", flags->options.min_probability,
                "Leave out offers the customer is less likely than this to buy (0 to 1)")
      ->capture_default_str();
  t->add_option("--by", flags->by, "What makes an offer best: expected-revenue or probability")->capture_default_str();
  t->add_option("--out", flags->out,
                "CSV to write: customer, then offer_K,probability_K,expected_revenue_K for each slot K")
      ->required();
  t->add_option("--at", flags->at, "Score as of this date (default: after the last event)");
  t->add_option("--threads", flags->threads, "Feature and scoring threads (0 = all cores)")
      ->check(WholeNumber(0, 1024))
      ->capture_default_str();
  AddCommonFlags(t);
  t->callback([flags, exit_code] {
    const Status s = RunTopOffers(*flags);
    if (!s.ok()) {
      std::fprintf(stderr, "audience top-offers: %s\n", s.message().c_str());
    }
    *exit_code = s.ok() ? 0 : 1;
  });
}

}  // namespace cf::cli
