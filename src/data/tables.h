// Mutable, in-memory tables a dataset is built from (by ingest) before it is written.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"

namespace cf::data {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StringIndex = std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>>;

// Strings interned to dense codes; code 0 is "" (missing).
class Dictionary {
 public:
  Dictionary() { Intern(""); }
  uint32_t Intern(std::string_view value);
  const std::vector<std::string>& values() const { return values_; }

 private:
  std::vector<std::string> values_;
  StringIndex index_;
};

struct AttributeTable {
  std::string name;
  Dictionary dict;
  std::vector<uint32_t> codes;  // one per row; rows past the end are missing

  void Set(uint32_t row, std::string_view value);
};

// Customers or products: distinct ids with attribute columns.
class EntityTable {
 public:
  uint32_t size() const { return static_cast<uint32_t>(ids_.size()); }
  const std::vector<std::string>& ids() const { return ids_; }
  // The row of `id`, created if new (then *created is set).
  uint32_t Intern(std::string_view id, bool* created);
  const uint32_t* Find(std::string_view id) const;
  AttributeTable& Attribute(std::string_view name);
  std::vector<AttributeTable>& attributes() { return attributes_; }
  const std::vector<AttributeTable>& attributes() const { return attributes_; }

 private:
  std::vector<std::string> ids_;
  StringIndex index_;
  std::vector<AttributeTable> attributes_;
};

struct EventColumns {
  std::vector<uint32_t> customer;
  std::vector<int64_t> time;
  std::vector<uint32_t> product;
  std::vector<float> quantity;
  std::vector<float> revenue;
  std::vector<uint8_t> channel;
  std::vector<uint32_t> store;
  Dictionary stores;

  size_t size() const { return time.size(); }
  void Reserve(size_t n);
};

struct DatasetTables {
  EntityTable customers;
  std::vector<std::string> external_ids;  // per customer row; "" if none
  std::vector<std::string> device_ids;
  std::vector<std::string> aliases;       // "label:name" lines joined by '\n'
  EntityTable products;
  EventColumns events;
  bool has_products = false;

  // Grows the identity columns to cover every customer row.
  void PadIdentities();
};

class Dataset;
// Copies an opened dataset back into tables (to append to it).
void LoadTables(const Dataset& ds, DatasetTables* tables);

// Sorts events by (customer, time), keeping file order among equal keys, and writes the
// dataset into `dir` (which must exist and be empty).
Status WriteTables(DatasetTables& tables, const std::string& dir);

}  // namespace cf::data
