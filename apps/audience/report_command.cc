// report: what each campaign of a plan earned against its holdout, online and offline
// (docs/analytics.md); with --observational-campaigns, targeted against not-targeted customers
// of a dataset without holdouts (completejourney), labelled observational.
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "analytics/campaign_report.h"
#include "analytics/observational.h"
#include "analytics/report_output.h"
#include "analytics/sends.h"
#include "apps/audience/commands.h"
#include "apps/audience/ingest_flags.h"
#include "base/files.h"
#include "data/dataset.h"

namespace cf::cli {
namespace {

struct ReportFlags {
  std::string data, plan_dir, sends, keys_file, purchases, window, out, json, observational;
  analytics::OutputOptions output;
  IngestFlags ingest;
};

bool IsOurHtml(const std::string& path) {
  return FileHead(path, 512).find("<title>Campaign report") != std::string::npos;
}
bool IsOurJson(const std::string& path) {
  return FileHead(path, 256).find("\"format\": \"cohortflow-campaign-report\"") != std::string::npos;
}

// The REST API key: CF_API_KEY, else the keys file's "api_key" (never a flag: it would show in
// the process list and the shell's history).
Result<std::string> ApiKey(const std::string& keys_file) {
  if (keys_file.empty()) {
    const char* env = std::getenv("CF_API_KEY");
    if (env != nullptr && *env != '\0') return std::string(env);
    return Err(Status::InvalidArgument(
        "--sends is a URL: give engage's REST API key in the environment variable CF_API_KEY or in --keys-file "
        "(JSON {\"api_key\": \"...\"})"));
  }
  CF_ASSIGN_OR_RETURN(std::string text, ReadFile(keys_file));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Err(Status::InvalidArgument(keys_file + ": expected a JSON object {\"api_key\": \"...\"}"));
  }
  auto it = j.find("api_key");
  if (it == j.end() || !it->is_string() || it->get<std::string>().empty()) {
    return Err(Status::InvalidArgument(keys_file + ": api_key must be a non-empty string (engage's REST API key)"));
  }
  return it->get<std::string>();
}

// What ingest said of the purchases file: the report's figures leave those rows out.
void PrintIngestNotes(const data::IngestReport& report, const data::IngestOptions& options) {
  for (const std::string& w : report.warnings) std::fprintf(stderr, "audience report: warning: %s\n", w.c_str());
  if (report.bad_rows == 0) return;
  std::fprintf(stderr, "audience report: warning: skipped %llu bad rows of %llu in %s; by reason:\n",
               static_cast<unsigned long long>(report.bad_rows), static_cast<unsigned long long>(report.rows_read),
               options.events.path.c_str());
  for (const auto& [reason, n] : report.bad_row_reasons) {
    std::fprintf(stderr, "  %llu x %s\n", static_cast<unsigned long long>(n), reason.c_str());
  }
  for (const std::string& line : report.first_bad_rows) std::fprintf(stderr, "  %s\n", line.c_str());
  if (!options.rejects.empty()) std::fprintf(stderr, "all rejected rows are in %s\n", options.rejects.c_str());
}

Status WriteOutputs(const ReportFlags& f, const std::string& html, const std::string& json) {
  if (!f.json.empty()) CF_RETURN_IF_ERROR(WriteFileAtomic(f.json, json));
  if (!f.out.empty()) CF_RETURN_IF_ERROR(WriteFileAtomic(f.out, html));
  return Status::OK();
}

Status RunReport(ReportFlags& f) {
  CF_RETURN_IF_ERROR(f.output.Validate());
  analytics::ReportOptions options;
  CF_RETURN_IF_ERROR(analytics::ParseWindows(f.window, &options).WithPrefix("--window"));
  CF_RETURN_IF_ERROR(options.Validate());
  if (f.out.empty() && f.json.empty()) {
    return Status::InvalidArgument("give --out report.html, --json report.json or both: nothing would be written");
  }
  if (!f.out.empty()) {
    CF_RETURN_IF_ERROR(CheckOutputFile("--out", f.out, "an HTML report written by audience report", IsOurHtml));
  }
  if (!f.json.empty()) {
    CF_RETURN_IF_ERROR(CheckOutputFile("--json", f.json, "a JSON report written by audience report", IsOurJson));
  }
  CF_RETURN_IF_ERROR(ApplyIngestFlags(&f.ingest));
  CF_ASSIGN_OR_RETURN(std::unique_ptr<data::Dataset> ds, data::Dataset::Open(f.data));

  TempDirectory scratch("audience-report");
  CF_RETURN_IF_ERROR(scratch.status());
  std::unique_ptr<data::Dataset> purchases;
  std::string skipped;  // said in the report too: its figures leave those rows out
  if (!f.purchases.empty()) {
    f.ingest.options.events.path = f.purchases;
    auto p = analytics::IngestPurchases(f.ingest.options, scratch.path());
    if (!p) return p.error().WithPrefix("--purchases " + f.purchases);
    PrintIngestNotes(p->ingest, f.ingest.options);
    if (p->ingest.bad_rows > 0) {
      skipped = fmt::format("{} bad rows of {} in {} were skipped and are not counted", p->ingest.bad_rows,
                            p->ingest.rows_read, f.purchases);
    }
    purchases = std::move(p->dataset);
  }

  if (!f.observational.empty()) {
    if (!f.plan_dir.empty() || !f.sends.empty()) {
      return Status::InvalidArgument(
          "--observational-campaigns compares targeted with not-targeted customers; it takes no --plan-dir or --sends");
    }
    CF_ASSIGN_OR_RETURN(analytics::ObservationalInputs in, analytics::ReadObservationalCampaigns(f.observational));
    CF_ASSIGN_OR_RETURN(analytics::ObservationalReport r,
                        analytics::BuildObservationalReport(*ds, in, purchases ? *purchases : *ds, options));
    if (!skipped.empty()) r.warnings.push_back(skipped);
    for (const std::string& w : r.warnings) std::fprintf(stderr, "audience report: warning: %s\n", w.c_str());
    CF_RETURN_IF_ERROR(
        WriteOutputs(f, analytics::ObservationalHtml(r, f.output), analytics::ObservationalJson(r, f.output)));
    std::printf("observational, not causal: %zu campaigns of %s; wrote %s\n", r.campaigns.size(),
                f.observational.c_str(), (f.out.empty() ? f.json : f.out).c_str());
    return Status::OK();
  }

  if (f.plan_dir.empty() || f.sends.empty() || f.purchases.empty()) {
    return Status::InvalidArgument(
        "a holdout report needs --plan-dir, --sends and --purchases (or --observational-campaigns DIR for campaigns "
        "without holdouts)");
  }
  CF_ASSIGN_OR_RETURN(analytics::PlanInputs plan, analytics::ReadPlanInputs(f.plan_dir));
  std::vector<analytics::SendRecord> sends;
  if (analytics::IsUrl(f.sends)) {
    analytics::FetchOptions fetch;
    fetch.url = f.sends;
    CF_ASSIGN_OR_RETURN(fetch.api_key, ApiKey(f.keys_file));
    std::vector<std::string> names;
    for (const sync::PlannedCampaign& c : plan.summary.campaigns) names.push_back(c.name);
    auto fetched = analytics::FetchSends(fetch, names);
    if (!fetched) return fetched.error().WithPrefix("--sends");
    sends = std::move(*fetched);
  } else {
    auto read = analytics::ReadSendsFile(f.sends);
    if (!read) return read.error().WithPrefix("--sends");
    sends = std::move(*read);
  }
  CF_ASSIGN_OR_RETURN(analytics::CampaignReport report,
                      analytics::BuildCampaignReport(*ds, plan, sends, *purchases, options));
  if (!skipped.empty()) report.warnings.push_back(skipped);
  for (const std::string& w : report.warnings) std::fprintf(stderr, "audience report: warning: %s\n", w.c_str());
  CF_RETURN_IF_ERROR(WriteOutputs(f, analytics::ReportHtml(report, f.output), analytics::ReportJson(report, f.output)));
  for (const analytics::CampaignResult& r : report.campaigns) {
    std::printf("%s: %s\n", r.campaign.name.c_str(), analytics::Headline(r, report.confidence, f.output).c_str());
  }
  std::printf("wrote %s\n", (f.out.empty() ? f.json : f.json.empty() ? f.out : f.out + " and " + f.json).c_str());
  return Status::OK();
}

}  // namespace

void AddReportCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<ReportFlags>();
  CLI::App* r = app.add_subcommand(
      "report", "What each campaign earned against its holdout, online and offline, with confidence intervals");
  r->add_option("--data", flags->data, "Dataset directory the plan was made on")->required();
  r->add_option("--plan-dir", flags->plan_dir, "Plan directory written by audience plan");
  r->add_option("--sends", flags->sends,
                "Engage's send records: a JSON Lines file (engage campaign sends) or engage's URL (http://host:port)");
  r->add_option("--keys-file", flags->keys_file,
                "JSON {\"api_key\": ...} with engage's REST API key for a --sends URL (default: env CF_API_KEY)");
  r->add_option("--purchases", flags->purchases,
                "The purchases after the plan (online and offline), read like audience ingest --events");
  AddEventReadingFlags(r, &flags->ingest);
  r->add_option("--window", flags->window,
                "Attribution window in days per channel from the send date: email=14,sms=3,push=3 (the defaults)");
  r->add_option("--currency", flags->output.currency,
                "Currency shown in the HTML: a symbol before amounts (€, $) or a code after them (EUR)")
      ->capture_default_str();
  r->add_option("--observational-campaigns", flags->observational,
                "Directory with campaigns.csv, campaign_descriptions.csv (coupon_redemptions.csv, coupons.csv): "
                "targeted vs not-targeted customers, observational, not causal");
  r->add_option("--out", flags->out, "HTML report to write (self-contained)");
  r->add_option("--json", flags->json, "JSON report to write");
  AddCommonFlags(r);
  r->callback([flags, exit_code] {
    const Status s = RunReport(*flags);
    if (!s.ok()) std::fprintf(stderr, "audience report: %s\n", s.message().c_str());
    *exit_code = s.ok() ? 0 : 1;
  });
}

}  // namespace cf::cli
