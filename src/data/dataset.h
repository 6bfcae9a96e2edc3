// A dataset: customers and their identities, the product catalog, and purchase events.
//
// On disk a dataset is a directory of flat little-endian column files plus `dataset.json`
// (see docs/data-formats.md). Opening one maps the columns read-only; nothing is parsed.
// Events are sorted by customer, then time, so a customer's history is one contiguous range.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/files.h"
#include "base/status.h"

namespace cf::data {

inline constexpr uint32_t kNoProduct = UINT32_MAX;  // an event that names no product
inline constexpr uint32_t kMissingCode = 0;         // dictionary code of an empty value

enum class Channel : uint8_t { kUnknown = 0, kOnline = 1, kOffline = 2 };
std::string_view ChannelName(Channel c);

// An immutable list of strings: either a view over a mapped `.strings` file or owned.
// File layout: u64 count, u64 offsets[count + 1], then the bytes.
class StringColumn {
 public:
  StringColumn() = default;
  static Result<StringColumn> FromBytes(std::string_view bytes, const std::string& name);
  static StringColumn FromOwned(std::vector<std::string> values);

  size_t size() const { return count_; }
  std::string_view operator[](size_t i) const {
    return {bytes_ + offsets_[i], static_cast<size_t>(offsets_[i + 1] - offsets_[i])};
  }
  // For reads of many values in a random order: asks the cache for value i's offsets, or
  // (once they are there) for its first bytes, a few reads ahead, so that the misses overlap.
  void PrefetchOffsets(size_t i) const { __builtin_prefetch(offsets_ + i); }
  void PrefetchBytes(size_t i) const { __builtin_prefetch(bytes_ + offsets_[i]); }
  // Serialized form of `values` in the layout above.
  static std::string Serialize(const std::vector<std::string>& values);

 private:
  size_t count_ = 0;
  const uint64_t* offsets_ = nullptr;
  const char* bytes_ = nullptr;
  std::shared_ptr<std::string> owned_;
};

// A dictionary-encoded attribute: codes[i] indexes dict; dict[0] is "" (missing).
struct Attribute {
  std::string name;
  std::span<const uint32_t> codes;
  StringColumn dict;

  std::string_view value(size_t row) const { return dict[codes[row]]; }
  // The code of `value`, or nullopt when no row has it.
  std::optional<uint32_t> Code(std::string_view value) const;
};

class Catalog {
 public:
  uint32_t size() const { return static_cast<uint32_t>(ids_.size()); }
  std::string_view product_id(uint32_t p) const { return ids_[p]; }
  const std::vector<Attribute>& attributes() const { return attributes_; }
  const Attribute* FindAttribute(std::string_view name) const;
  std::optional<uint32_t> FindProduct(std::string_view id) const;

  // A catalog held in memory (not a dataset's): product ids and, per attribute, one value per
  // product. Values are dictionary-encoded as a dataset's are ("" is missing).
  static Catalog FromColumns(std::vector<std::string> ids,
                             const std::vector<std::pair<std::string, std::vector<std::string>>>& attributes);

 private:
  friend class Dataset;
  StringColumn ids_;
  std::vector<Attribute> attributes_;
  std::vector<std::shared_ptr<const std::vector<uint32_t>>> owned_codes_;  // FromColumns: the codes' storage
  mutable std::unordered_map<std::string_view, uint32_t> index_;           // built on first FindProduct
};

class Customers {
 public:
  uint32_t size() const { return static_cast<uint32_t>(ids_.size()); }
  std::string_view crm_id(uint32_t c) const { return ids_[c]; }
  const StringColumn& crm_ids() const { return ids_; }
  std::string_view external_id(uint32_t c) const { return external_ids_[c]; }  // "" if none
  std::string_view device_id(uint32_t c) const { return device_ids_[c]; }      // "" if none
  // Aliases as "label:name" lines joined by '\n'; "" if none.
  std::string_view aliases(uint32_t c) const { return aliases_[c]; }
  const std::vector<Attribute>& attributes() const { return attributes_; }
  const Attribute* FindAttribute(std::string_view name) const;
  std::optional<uint32_t> Find(std::string_view crm_id) const;

 private:
  friend class Dataset;
  StringColumn ids_, external_ids_, device_ids_, aliases_;
  std::vector<Attribute> attributes_;
  mutable std::unordered_map<std::string_view, uint32_t> index_;
};

// Columns of all events, sorted by (customer, time).
class Events {
 public:
  uint64_t size() const { return time_.size(); }
  std::span<const uint32_t> customer() const { return customer_; }
  std::span<const int64_t> time() const { return time_; }         // UTC seconds
  std::span<const uint32_t> product() const { return product_; }  // kNoProduct if none
  std::span<const float> quantity() const { return quantity_; }
  std::span<const float> revenue() const { return revenue_; }
  std::span<const uint8_t> channel() const { return channel_; }  // Channel values
  std::span<const uint32_t> store() const { return store_; }     // codes into stores()
  const StringColumn& stores() const { return stores_; }         // stores()[0] == ""
  // Events of customer c are [begin(c), end(c)).
  uint64_t begin(uint32_t c) const { return offsets_[c]; }
  uint64_t end(uint32_t c) const { return offsets_[c + 1]; }

 private:
  friend class Dataset;
  std::span<const uint32_t> customer_;
  std::span<const int64_t> time_;
  std::span<const uint32_t> product_;
  std::span<const float> quantity_;
  std::span<const float> revenue_;
  std::span<const uint8_t> channel_;
  std::span<const uint32_t> store_;
  std::span<const uint64_t> offsets_;
  StringColumn stores_;
};

class Dataset {
 public:
  static Result<std::unique_ptr<Dataset>> Open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  const Customers& customers() const { return customers_; }
  const Catalog& catalog() const { return catalog_; }
  const Events& events() const { return events_; }
  // Time of the first and last event (0 when there are none).
  int64_t first_time() const { return first_time_; }
  int64_t last_time() const { return last_time_; }
  // True when the events name products (a product column was ingested).
  bool has_products() const { return has_products_; }

 private:
  Result<std::span<const char>> MapColumn(const std::string& file, size_t elem_size, size_t count);
  Result<StringColumn> MapStrings(const std::string& file);

  std::string dir_;
  std::vector<std::unique_ptr<MappedFile>> maps_;
  Customers customers_;
  Catalog catalog_;
  Events events_;
  int64_t first_time_ = 0;
  int64_t last_time_ = 0;
  bool has_products_ = false;
};

}  // namespace cf::data
