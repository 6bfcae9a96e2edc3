// Internal to src/model (see docs/architecture.md, "Public and internal headers").
// A thin RAII wrapper over the XGBoost C API: every int return code becomes a Status that
// carries XGBGetLastError().
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace cf::model {

class XgbMatrix {
 public:
  // Row-major dense data (NaN = missing), with labels and optional per-row weights.
  static Result<XgbMatrix> FromDense(std::span<const float> data, uint64_t rows, uint64_t cols,
                                     std::span<const float> labels, std::span<const float> weights, int threads);
  void* handle() const { return handle_.get(); }

 private:
  struct Free {
    void operator()(void* h) const;
  };
  std::unique_ptr<void, Free> handle_;
};

class XgbBooster {
 public:
  static Result<XgbBooster> Create(const XgbMatrix& train,
                                   const std::vector<std::pair<std::string, std::string>>& params);

  Status UpdateOneIter(int iteration, const XgbMatrix& train);
  // Probabilities (margins when `margin`) of dense row-major rows, using rounds
  // [begin, end) (end 0 = all). Margins of disjoint round ranges add up, minus base_score.
  Result<std::vector<float>> Predict(std::span<const float> data, uint64_t rows, uint64_t cols, int begin, int end,
                                     bool margin) const;
  // The model in XGBoost's JSON format.
  Result<std::string> Save() const;

 private:
  struct Free {
    void operator()(void* h) const;
  };
  std::unique_ptr<void, Free> handle_;
};

}  // namespace cf::model
