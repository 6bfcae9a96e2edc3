// The campaign report as JSON (for tools and tests) and as a self-contained HTML page (for
// marketers): formats in docs/analytics.md.
#pragma once

#include <string>

#include "analytics/campaign_report.h"

namespace cf::analytics {

struct OutputOptions {
  // Shown before amounts in the HTML ("€", "$", "£"); a code of letters ("EUR", "SEK") is shown
  // after them. The JSON's amounts are plain numbers in the data's currency.
  std::string currency = "€";

  Status Validate() const;
};

std::string ReportJson(const CampaignReport& report, const OutputOptions& options);
std::string ReportHtml(const CampaignReport& report, const OutputOptions& options);

// "+€9,870", "-€50.00", "€1.25": an amount in the options' currency, grouped by thousands, with
// cents below 100 (or as `like`, a larger amount shown beside it, decides: an interval's three
// amounts share one precision).
std::string FormatMoney(double amount, const std::string& currency, bool sign = false, double like = 0);
// "+312", "-4", "1,234": a count, rounded, grouped by thousands.
std::string FormatCount(double count, bool sign = false);

// The headline of one campaign in plain words ("+312 buyers (95% CI 180 to 440), +€9,870
// revenue, 61% of it in stores").
std::string Headline(const CampaignResult& result, double confidence, const OutputOptions& options);

}  // namespace cf::analytics
