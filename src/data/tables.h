// Mutable, in-memory tables a dataset is built from (by ingest) before it is written.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "data/format.h"

namespace cf::data {

// Distinct strings with dense ids, stored back to back in one buffer (the `.str` layout), and
// an open-addressing index over them. Far lighter than a node-based map of std::string.
class Interner {
 public:
  Interner();
  uint32_t size() const { return static_cast<uint32_t>(offsets_.size() - 1); }
  std::string_view operator[](uint32_t id) const {
    return std::string_view(bytes_).substr(offsets_[id], offsets_[id + 1] - offsets_[id]);
  }
  // The id of `s`, added if new (then *created is set).
  uint32_t Intern(std::string_view s, bool* created);
  // The id of `s`, or -1.
  int64_t Find(std::string_view s) const;
  // The serialized `.str` form (see StringColumn).
  std::string Serialize() const;

 private:
  static uint64_t Hash(std::string_view s);
  void Grow();

  struct Slot {
    uint32_t id;    // kEmpty when free
    uint32_t hash;  // high bits of the hash, to skip most string compares
  };
  static constexpr uint32_t kEmpty = UINT32_MAX;
  std::string bytes_;
  std::vector<uint64_t> offsets_;
  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
};

// Strings interned to dense codes; code 0 is "" (missing).
class Dictionary {
 public:
  Dictionary() { Intern(""); }
  uint32_t Intern(std::string_view value) {
    bool created = false;
    return strings_.Intern(value, &created);
  }
  const Interner& values() const { return strings_; }

 private:
  Interner strings_;
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
  uint32_t size() const { return ids_.size(); }
  const Interner& ids() const { return ids_; }
  // The row of `id`, created if new (then *created is set).
  uint32_t Intern(std::string_view id, bool* created) { return ids_.Intern(id, created); }
  AttributeTable& Attribute(std::string_view name);
  std::vector<AttributeTable>& attributes() { return attributes_; }

 private:
  Interner ids_;
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
  std::vector<std::string> aliases;  // "label:name" lines joined by '\n'
  EntityTable products;
  EventColumns events;
  bool has_products = false;
  std::vector<Batch> batches;  // the events files ingested so far

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
