#include "model/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace cf::model {
namespace {
constexpr double kLiftShare = 0.1;
constexpr int kDeciles = 10;
}  // namespace

std::vector<uint32_t> RankOrder(std::span<const double> scores, uint64_t seed) {
  std::vector<uint32_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0u);
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return scores[a] > scores[b]; });
  return order;
}

double RocAuc(std::span<const double> scores, std::span<const uint8_t> labels) {
  const size_t n = scores.size();
  std::vector<uint32_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0u);
  std::sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) { return scores[a] < scores[b]; });
  double rank_sum = 0;  // sum of the positives' average ranks (1-based)
  uint64_t positives = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    uint64_t group_pos = 0;
    while (j < n && scores[idx[j]] == scores[idx[i]]) {
      group_pos += labels[idx[j]];
      ++j;
    }
    const double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    rank_sum += avg_rank * static_cast<double>(group_pos);
    positives += group_pos;
    i = j;
  }
  const double p = static_cast<double>(positives);
  const double q = static_cast<double>(n) - p;
  if (p == 0 || q == 0) {
    return 0.5;
  }
  return (rank_sum - p * (p + 1) / 2.0) / (p * q);
}

double AveragePrecision(std::span<const double> scores, std::span<const uint8_t> labels) {
  const size_t n = scores.size();
  std::vector<uint32_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0u);
  std::sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) { return scores[a] > scores[b]; });
  uint64_t total_pos = 0;
  for (uint8_t l : labels) {
    total_pos += l;
  }
  if (total_pos == 0) {
    return 0;
  }
  double ap = 0;
  uint64_t tp = 0;
  double prev_recall = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && scores[idx[j]] == scores[idx[i]]) {
      tp += labels[idx[j]];
      ++j;
    }
    const double recall = static_cast<double>(tp) / static_cast<double>(total_pos);
    const double precision = static_cast<double>(tp) / static_cast<double>(j);
    ap += (recall - prev_recall) * precision;
    prev_recall = recall;
    i = j;
  }
  return ap;
}

OfferMetrics ComputeOfferMetrics(std::span<const double> scores, std::span<const uint8_t> labels,
                                 std::span<const uint32_t> order) {
  OfferMetrics m;
  const size_t n = scores.size();
  m.population = n;
  for (uint8_t l : labels) {
    m.positives += l;
  }
  m.auc = RocAuc(scores, labels);
  m.average_precision = AveragePrecision(scores, labels);
  if (n == 0 || m.positives == 0) {
    return m;
  }
  const double big_p = static_cast<double>(m.positives);
  const double big_n = static_cast<double>(n);
  const auto top = static_cast<size_t>(std::ceil(kLiftShare * big_n - 1e-9));
  uint64_t top_pos = 0;
  for (size_t i = 0; i < top && i < n; ++i) {
    top_pos += labels[order[i]];
  }
  const double base_rate = big_p / big_n;
  m.lift_at_10 = top == 0 ? 0 : (static_cast<double>(top_pos) / static_cast<double>(top)) / base_rate;
  m.lift_quality = LiftQuality(scores, labels, order);
  return m;
}

double LiftQuality(std::span<const double> scores, std::span<const uint8_t> labels, std::span<const uint32_t> order) {
  const size_t n = scores.size();
  uint64_t positives = 0;
  for (uint8_t l : labels) {
    positives += l;
  }
  if (n == 0 || positives == 0) {
    return 0;
  }
  const double big_p = static_cast<double>(positives);
  const double big_n = static_cast<double>(n);
  double area = 0;
  uint64_t seen = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t before = seen;
    seen += labels[order[i]];
    area += (static_cast<double>(before) + static_cast<double>(seen)) / (2.0 * big_p * big_n);
  }
  const double perfect = 1.0 - big_p / big_n / 2.0;
  return perfect > 0.5 ? 100.0 * (area - 0.5) / (perfect - 0.5) : 0;
}

std::vector<double> DecileShares(std::span<const uint8_t> labels, std::span<const uint32_t> order) {
  std::vector<double> shares(kDeciles, 0.0);
  const size_t n = order.size();
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t decile = i * kDeciles / std::max<size_t>(n, 1);
    shares[decile] += labels[order[i]];
    total += labels[order[i]];
  }
  if (total > 0) {
    for (double& s : shares) {
      s /= static_cast<double>(total);
    }
  }
  return shares;
}

}  // namespace cf::model
