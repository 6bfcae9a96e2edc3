// curve: an offer's audience curve (size <-> expected buyers and revenue), the slider a marketer
// sizes a campaign with, as a table, JSON and an SVG chart.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "apps/audience/commands.h"
#include "base/files.h"
#include "base/strings.h"
#include "base/time.h"
#include "data/dataset.h"
#include "model/event_log.h"
#include "model/universal.h"
#include "offer/offer.h"
#include "plan/audience_filter.h"
#include "plan/curve.h"
#include "plan/offer_curve.h"
#include "report/svg.h"

namespace cf::cli {
namespace {

constexpr const char* kJsonFormat = "cohortflow-audience-curve";
constexpr const char* kSvgMark = "<!-- audience curve -->";

struct CurveFlags {
  std::string data, model_dir, offer, audience, json_out, svg, at;
  plan::CurveOptions options;
  bool json = false;
  int threads = 0;
};

bool IsCurveJson(const std::string& path) { return FileHead(path, 64).find(kJsonFormat) != std::string::npos; }
bool IsCurveSvg(const std::string& path) { return StartsWith(FileHead(path, 64), kSvgMark); }

std::string DumpJson(const nlohmann::ordered_json& j) {
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

Status RunCurve(const CurveFlags& f) {
  CF_RETURN_IF_ERROR(f.options.Validate());
  for (const auto& [flag, path, kind, is_ours] :
       {std::tuple{"--json-out", f.json_out, "a JSON curve written by audience curve", &IsCurveJson},
        std::tuple{"--svg", f.svg, "an SVG chart written by audience curve", &IsCurveSvg}}) {
    if (path.empty()) continue;
    CF_RETURN_IF_ERROR(CheckOutputFile(flag, path, kind, is_ours));
    CF_RETURN_IF_ERROR(CheckOutside(flag, path, "dataset", f.data));
    CF_RETURN_IF_ERROR(CheckOutside(flag, path, "model", f.model_dir));
  }
  CF_ASSIGN_OR_RETURN(const std::optional<int64_t> at, ParseAtFlag(f.at));
  CF_ASSIGN_OR_RETURN(std::unique_ptr<data::Dataset> ds, data::Dataset::Open(f.data));
  // Checked before the model loads: a typo in the offer or the audience fails at once.
  if (auto o = offer::CompileOffer(f.offer, ds->catalog()); !o.has_value()) return o.error();
  if (auto a = plan::SelectCustomers(f.audience, ds->customers()); !a.has_value()) return a.error();
  CF_ASSIGN_OR_RETURN(std::unique_ptr<model::UniversalModel> m,
                      model::UniversalModel::Load(f.model_dir, ds->catalog(), f.threads));
  const model::EventLog log = model::EventLog::FromDataset(*ds);
  CF_ASSIGN_OR_RETURN(const plan::OfferCurve oc,
                      plan::ComputeOfferCurve(*ds, *m, log, f.offer, f.audience, at, f.options));
  const std::vector<plan::CurvePoint>& curve = oc.points;
  const int64_t cutoff = oc.as_of;
  const uint64_t eligible = oc.eligible;

  nlohmann::ordered_json j;
  j["format"] = kJsonFormat;
  j["offer"] = oc.offer;
  j["audience"] = f.audience.empty() ? "everyone" : f.audience;
  j["customers"] = oc.customers;
  j["eligible"] = eligible;
  j["as_of"] = FormatIsoTime(cutoff);
  j["horizon_days"] = m->horizon_days();
  j["model"] = f.model_dir;
  j["expected_buyers"] = oc.expected_buyers;
  j["expected_revenue"] = oc.expected_revenue;
  j["points"] = nlohmann::ordered_json::array();
  for (const plan::CurvePoint& p : curve) {
    j["points"].push_back({{"size", p.size},
                           {"expected_buyers", p.expected_buyers},
                           {"expected_revenue", p.expected_revenue},
                           {"buyer_share", p.buyer_share},
                           {"lift", p.lift},
                           {"threshold", p.threshold}});
  }
  if (!f.json_out.empty()) CF_RETURN_IF_ERROR(WriteFileAtomic(f.json_out, DumpJson(j) + "\n"));
  if (!f.svg.empty()) {
    report::Series gains{"expected buyers captured", {{0, 0}}};
    for (const plan::CurvePoint& p : curve) {
      gains.points.emplace_back(static_cast<double>(p.size) / static_cast<double>(eligible), p.buyer_share);
    }
    report::ChartOptions chart;
    chart.title = fmt::format("Audience curve: {} ({} eligible customers)", oc.offer, eligible);
    chart.x_label = "share of the eligible customers, best first";
    chart.y_label = "share of expected buyers";
    chart.diagonal = true;  // a random audience of the same size
    CF_RETURN_IF_ERROR(WriteFileAtomic(f.svg, std::string(kSvgMark) + "\n" + report::LineChart(chart, {gains})));
  }
  if (f.json) {
    std::printf("%s\n", DumpJson(j).c_str());
    return Status::OK();
  }
  std::printf(
      "audience curve of '%s' over %llu eligible customers (of %zu; audience: %s) as of %s, horizon %d days: "
      "%.1f expected buyers, %.2f expected revenue\n",
      oc.offer.c_str(), static_cast<unsigned long long>(eligible), static_cast<size_t>(oc.customers),
      f.audience.empty() ? "everyone" : f.audience.c_str(), FormatIsoTime(cutoff).c_str(), m->horizon_days(),
      oc.expected_buyers, oc.expected_revenue);
  std::printf("%10s %10s %16s %17s %12s %7s %10s\n", "size", "customers", "expected_buyers", "expected_revenue",
              "buyer_share", "lift", "threshold");
  for (const plan::CurvePoint& p : curve) {
    std::printf("%10llu %9.1f%% %16.2f %17.2f %11.1f%% %7.2f %10.4f\n", static_cast<unsigned long long>(p.size),
                100.0 * static_cast<double>(p.size) / static_cast<double>(eligible), p.expected_buyers,
                p.expected_revenue, 100.0 * p.buyer_share, p.lift, p.threshold);
  }
  if (curve.empty()) std::printf("(no eligible customer: the --audience expression selects nobody)\n");
  return Status::OK();
}

}  // namespace

void AddCurveCommand(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<CurveFlags>();
  CLI::App* c = app.add_subcommand("curve", "An offer's audience curve: expected buyers and revenue by audience size");
  c->add_option("--data", f->data, "Dataset directory written by audience ingest")->required();
  c->add_option("--model", f->model_dir, "Model directory written by audience train")->required();
  c->add_option("--offer", f->offer, "Offer expression, e.g. 'product_category = \"SOFT DRINKS\"' or any")->required();
  c->add_option("--audience", f->audience,
                "Only customers matching this expression over customer attributes, e.g. 'region != \"North\"'");
  c->add_option("--points", f->options.points, "Audience sizes on the curve, evenly spaced")
      ->check(WholeNumber(1, 10000))
      ->capture_default_str();
  c->add_flag("--json", f->json, "Print the curve as JSON instead of the table");
  c->add_option("--json-out", f->json_out, "JSON curve to write");
  c->add_option("--svg", f->svg, "SVG chart to write: share of expected buyers by share of customers");
  c->add_option("--at", f->at, "Score as of this date or time, ISO 8601 (default: just after the last event)");
  c->add_option("--threads", f->threads, "Feature and scoring threads (0 = all cores)")
      ->check(WholeNumber(0, 1024))
      ->capture_default_str();
  AddCommonFlags(c);
  c->callback([f, exit_code] {
    const Status s = RunCurve(*f);
    if (!s.ok()) std::fprintf(stderr, "audience curve: %s\n", s.message().c_str());
    *exit_code = s.ok() ? 0 : 1;
  });
}

}  // namespace cf::cli
