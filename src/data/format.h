// The on-disk layout of a dataset directory (see docs/data-formats.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace cf::data {

inline constexpr int kFormatVersion = 1;
inline constexpr char kMetaFile[] = "dataset.json";
inline constexpr char kCustomerIds[] = "customers.id.str";
inline constexpr char kCustomerExternalIds[] = "customers.external_id.str";
inline constexpr char kCustomerDeviceIds[] = "customers.device_id.str";
inline constexpr char kCustomerAliases[] = "customers.aliases.str";
inline constexpr char kProductIds[] = "products.id.str";
inline constexpr char kEventCustomer[] = "events.customer.u32";
inline constexpr char kEventTime[] = "events.time.i64";
inline constexpr char kEventProduct[] = "events.product.u32";
inline constexpr char kEventQuantity[] = "events.quantity.f32";
inline constexpr char kEventRevenue[] = "events.revenue.f32";
inline constexpr char kEventChannel[] = "events.channel.u8";
inline constexpr char kEventStore[] = "events.store.u32";
inline constexpr char kEventOffsets[] = "events.offsets.u64";
inline constexpr char kEventStores[] = "events.stores.str";

// One ingested events file (see data/ingest.h): an events file whose text has the same size
// and checksum as a recorded batch is not ingested again.
struct Batch {
  std::string file;         // file name as given (directory left out)
  uint64_t bytes = 0;       // size of its (decompressed) text
  std::string checksum;     // 64-bit hash of that text, hex (see io::RecordReader::Checksum)
  uint64_t events = 0;      // events it added
  std::string ingested_at;  // ISO 8601, UTC
};

struct DatasetMeta {
  uint64_t customers = 0;
  uint64_t products = 0;
  uint64_t events = 0;
  int64_t first_time = 0;
  int64_t last_time = 0;
  bool has_products = false;
  std::vector<std::string> customer_attributes;
  std::vector<std::string> product_attributes;
  std::vector<Batch> batches;  // in ingest order; absent in datasets written before batches were recorded
};

Result<DatasetMeta> ReadMeta(const std::string& dir);
Status WriteMeta(const std::string& dir, const DatasetMeta& meta);

}  // namespace cf::data
