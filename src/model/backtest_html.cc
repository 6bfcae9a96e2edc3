// The evaluate report as a self-contained HTML page.
#include <fmt/format.h>

#include <algorithm>

#include "base/time.h"
#include "model/backtest.h"
#include "report/html.h"
#include "report/svg.h"

namespace cf::model {

std::string BacktestToHtml(const BacktestResult& result) {
  report::HtmlPage page("Topic propensity backtest");
  page.Paragraph(
      fmt::format("Cutoff {}, horizon {} days, topics by {} (at least {} buyers): {} topics, population {}, mean base "
                  "rate {:.2f}%. "
                  "Every model learned from purchases before the cutoff only.",
                  FormatIsoDate(result.cutoff), result.horizon_days, result.offers_by, result.min_positives,
                  result.offers.size(), result.population, 100.0 * result.base_rate));
  std::vector<std::vector<std::string>> rows;
  for (const ModelBacktest& m : result.models) {
    rows.push_back({m.name, fmt::format("{:.4f}", m.macro.auc), fmt::format("{:.4f}", m.macro.average_precision),
                    fmt::format("{:.3f}", m.macro.lift_at_10), fmt::format("{:.2f}", m.macro.lift_quality),
                    fmt::format("{:.1f}", m.seconds)});
  }
  page.Heading("Macro means over topics");
  page.Table({"model", "AUC", "average precision", "lift@10%", "Lift Quality", "seconds"}, rows);

  page.Heading("Cumulative gains and concentration");
  page.Paragraph(
      "Share of a topic's buyers reached when targeting the best-scored share of customers (macro mean over topics); "
      "the dashed diagonal is random targeting.");
  std::vector<report::Series> gains, deciles, calibration;
  for (const ModelBacktest& m : result.models) {
    report::Series g{m.name, {}};
    for (size_t i = 0; i < m.gains.size(); ++i) {
      g.points.emplace_back(static_cast<double>(i) / kGainsPoints, m.gains[i]);
    }
    gains.push_back(std::move(g));
    report::Series d{m.name, {}};
    for (size_t i = 0; i < m.deciles.size(); ++i) {
      d.points.emplace_back(static_cast<double>(i), m.deciles[i]);
    }
    deciles.push_back(std::move(d));
    if (m.probabilities) {
      report::Series c{m.name, {}};
      for (size_t i = 0; i < m.calibration_predicted.size(); ++i) {
        c.points.emplace_back(m.calibration_predicted[i], m.calibration_observed[i]);
      }
      calibration.push_back(std::move(c));
    }
  }
  report::ChartOptions go;
  go.title = "Cumulative gains";
  go.x_label = "share of customers targeted";
  go.y_label = "share of buyers reached";
  go.diagonal = true;
  page.Raw(report::LineChart(go, gains));

  double max_share = 0.1;
  for (const ModelBacktest& m : result.models) {
    for (double d : m.deciles) {
      max_share = std::max(max_share, d);
    }
  }
  report::ChartOptions dopt;
  dopt.title = "Share of buyers per score decile";
  dopt.x_label = "score decile (1 = best)";
  dopt.y_label = "share of buyers";
  dopt.x_max = 10;
  dopt.y_max = std::min(1.0, max_share * 1.1);
  std::vector<std::string> labels;
  for (int d = 1; d <= 10; ++d) {
    labels.push_back(std::to_string(d));
  }
  page.Raw(report::BarChart(dopt, labels, deciles));

  std::vector<std::string> header = {"model"};
  for (int d = 1; d <= 10; ++d) {
    header.push_back(fmt::format("decile {}", d));
  }
  std::vector<std::vector<std::string>> decile_rows;
  for (const ModelBacktest& m : result.models) {
    std::vector<std::string> row = {m.name};
    for (double d : m.deciles) {
      row.push_back(fmt::format("{:.1f}%", 100.0 * d));
    }
    decile_rows.push_back(std::move(row));
  }
  page.Table(header, decile_rows);

  if (!calibration.empty()) {
    page.Heading("Calibration");
    page.Paragraph(
        "Mean predicted probability against the observed buyer rate, in ten equal-count bins of all "
        "customer × topic pairs; the diagonal is perfect calibration.");
    double top = 0.05;
    for (const report::Series& s : calibration) {
      for (const auto& [x, y] : s.points) {
        top = std::max({top, x, y});
      }
    }
    report::ChartOptions co;
    co.title = "Calibration";
    co.x_label = "predicted probability";
    co.y_label = "observed rate";
    co.x_max = co.y_max = std::min(1.0, top * 1.1);
    co.diagonal = true;
    page.Raw(report::LineChart(co, calibration));
  }

  std::vector<std::vector<std::string>> kind_rows;
  for (const ModelBacktest& m : result.models) {
    for (const BuyerCalibration& c : m.calibration_by_kind) {
      kind_rows.push_back({m.name, c.kind, std::to_string(c.offers), fmt::format("{:.1f}", c.predicted),
                           fmt::format("{:.0f}", c.realized),
                           c.realized > 0 ? fmt::format("{:+.1f}%", 100.0 * (c.predicted / c.realized - 1)) : "—"});
    }
  }
  if (!kind_rows.empty()) {
    page.Heading("Calibration by offer kind");
    page.Paragraph(
        "Expected buyers (the sum of the probabilities over the population) against the buyers seen in the window, "
        "over the topics and over every value of each catalog level with enough buyers.");
    page.Table({"model", "offer kind", "offers", "predicted buyers", "realized buyers", "difference"}, kind_rows);
  }

  if (result.new_customers > 0) {
    page.Heading("New customers");
    page.Paragraph(fmt::format(
        "{} of the {} customers had no purchase before the cutoff (they are in the customers file). Lift Quality "
        "among them over the topics with at least {} new buyers; predicted and realized buyers summed over the topics.",
        result.new_customers, result.population, kMinNewCustomerPositives));
    std::vector<std::vector<std::string>> fresh_rows;
    for (const ModelBacktest& m : result.models) {
      fresh_rows.push_back({m.name, fmt::format("{:.2f}", m.new_lift_quality), std::to_string(m.new_offers),
                            m.probabilities ? fmt::format("{:.1f}", m.new_predicted) : "—",
                            fmt::format("{:.0f}", m.new_realized)});
    }
    page.Table({"model", "Lift Quality", "topics", "predicted buyers", "realized buyers"}, fresh_rows);
  }

  page.Heading("Per topic Lift Quality");
  std::vector<std::string> topic_header = {"topic", "buyers"};
  for (const ModelBacktest& m : result.models) {
    topic_header.push_back(m.name);
  }
  std::vector<std::vector<std::string>> topic_rows;
  for (size_t t = 0; t < result.offers.size(); ++t) {
    std::vector<std::string> row = {result.offers[t], std::to_string(result.positives[t])};
    for (const ModelBacktest& m : result.models) {
      row.push_back(fmt::format("{:.1f}", m.per_offer[t].lift_quality));
    }
    topic_rows.push_back(std::move(row));
  }
  page.Table(topic_header, topic_rows);
  return page.Render();
}

}  // namespace cf::model
