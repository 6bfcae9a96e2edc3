#include "model/xgb.h"

#include <fmt/format.h>
#include <xgboost/c_api.h>

#include <cmath>
#include <limits>

namespace cf::model {
namespace {

Status Check(int rc, std::string_view what) {
  if (rc == 0) {
    return Status::OK();
  }
  return Status::Internal(fmt::format("xgboost {}: {}", what, XGBGetLastError()));
}

}  // namespace

void XgbMatrix::Free::operator()(void* h) const { XGDMatrixFree(h); }
void XgbBooster::Free::operator()(void* h) const { XGBoosterFree(h); }

Result<XgbMatrix> XgbMatrix::FromDense(std::span<const float> data, uint64_t rows, uint64_t cols,
                                       std::span<const float> labels, std::span<const float> weights, int threads) {
  DMatrixHandle h = nullptr;
  CF_RETURN_IF_ERROR(
      Check(XGDMatrixCreateFromMat_omp(data.data(), rows, cols, std::numeric_limits<float>::quiet_NaN(), &h, threads),
            "creating a matrix"));
  XgbMatrix m;
  m.handle_.reset(h);
  CF_RETURN_IF_ERROR(Check(XGDMatrixSetFloatInfo(h, "label", labels.data(), labels.size()), "setting labels"));
  if (!weights.empty()) {
    CF_RETURN_IF_ERROR(Check(XGDMatrixSetFloatInfo(h, "weight", weights.data(), weights.size()), "setting weights"));
  }
  return m;
}

Result<XgbBooster> XgbBooster::Create(const XgbMatrix& train,
                                      const std::vector<std::pair<std::string, std::string>>& params) {
  BoosterHandle h = nullptr;
  DMatrixHandle mats[] = {train.handle()};
  CF_RETURN_IF_ERROR(Check(XGBoosterCreate(mats, 1, &h), "creating a booster"));
  XgbBooster b;
  b.handle_.reset(h);
  for (const auto& [key, value] : params) {
    CF_RETURN_IF_ERROR(Check(XGBoosterSetParam(h, key.c_str(), value.c_str()), "setting " + key));
  }
  return b;
}

Status XgbBooster::UpdateOneIter(int iteration, const XgbMatrix& train) {
  return Check(XGBoosterUpdateOneIter(handle_.get(), iteration, train.handle()), "training");
}

Result<std::vector<float>> XgbBooster::Predict(std::span<const float> data, uint64_t rows, uint64_t cols, int begin,
                                               int end, bool margin) const {
  if (rows == 0) {
    return std::vector<float>{};
  }
  const std::string array = fmt::format(R"({{"data":[{},true],"shape":[{},{}],"typestr":"<f4","version":3}})",
                                        reinterpret_cast<uintptr_t>(data.data()), rows, cols);
  const std::string config = fmt::format(
      R"({{"type":{},"training":false,"iteration_begin":{},"iteration_end":{},"strict_shape":false,"missing":NaN,"cache_id":0}})",
      margin ? 1 : 0, begin, end);
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* out = nullptr;
  CF_RETURN_IF_ERROR(
      Check(XGBoosterPredictFromDense(handle_.get(), array.c_str(), config.c_str(), nullptr, &shape, &dim, &out),
            "predicting"));
  return std::vector<float>(out, out + rows);
}

Result<std::string> XgbBooster::Save() const {
  bst_ulong len = 0;
  const char* bytes = nullptr;
  CF_RETURN_IF_ERROR(
      Check(XGBoosterSaveModelToBuffer(handle_.get(), R"({"format":"json"})", &len, &bytes), "saving the model"));
  return std::string(bytes, len);
}

}  // namespace cf::model
