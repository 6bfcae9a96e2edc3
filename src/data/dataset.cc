#include "data/dataset.h"

#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <utility>

#include "data/format.h"

namespace cf::data {

std::string_view ChannelName(Channel c) {
  switch (c) {
    case Channel::kOnline:
      return "online";
    case Channel::kOffline:
      return "offline";
    case Channel::kUnknown:
      break;
  }
  return "";
}

Result<StringColumn> StringColumn::FromBytes(std::string_view bytes, const std::string& name) {
  StringColumn col;
  if (bytes.size() < sizeof(uint64_t)) {
    return Err(Status::Corruption(name + ": too short for a string column"));
  }
  uint64_t count = 0;
  std::memcpy(&count, bytes.data(), sizeof count);
  const uint64_t header = sizeof(uint64_t) * (count + 2);
  if (count > bytes.size() || header > bytes.size()) {
    return Err(Status::Corruption(name + ": string count " + std::to_string(count) + " exceeds the file"));
  }
  col.count_ = count;
  col.offsets_ = reinterpret_cast<const uint64_t*>(bytes.data() + sizeof(uint64_t));
  col.bytes_ = bytes.data() + header;
  if (col.offsets_[count] > bytes.size() - header) {
    return Err(Status::Corruption(name + ": string bytes exceed the file"));
  }
  return col;
}

StringColumn StringColumn::FromOwned(std::vector<std::string> values) {
  auto owned = std::make_shared<std::string>(Serialize(values));
  StringColumn col = FromBytes(*owned, "owned").value();
  col.owned_ = std::move(owned);
  return col;
}

std::string StringColumn::Serialize(const std::vector<std::string>& values) {
  uint64_t total = 0;
  for (const std::string& v : values) total += v.size();
  std::string out;
  out.reserve(sizeof(uint64_t) * (values.size() + 2) + total);
  auto put = [&out](uint64_t x) { out.append(reinterpret_cast<const char*>(&x), sizeof x); };
  put(values.size());
  uint64_t off = 0;
  put(off);
  for (const std::string& v : values) {
    off += v.size();
    put(off);
  }
  for (const std::string& v : values) out += v;
  return out;
}

std::optional<uint32_t> Attribute::Code(std::string_view value) const {
  for (size_t i = 0; i < dict.size(); ++i) {
    if (dict[i] == value) return static_cast<uint32_t>(i);
  }
  return std::nullopt;
}

namespace {

const Attribute* FindIn(const std::vector<Attribute>& attrs, std::string_view name) {
  for (const Attribute& a : attrs) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::optional<uint32_t> FindId(const StringColumn& ids, std::unordered_map<std::string_view, uint32_t>& index,
                               std::string_view id) {
  if (index.empty() && ids.size() > 0) {
    index.reserve(ids.size());
    for (uint32_t i = 0; i < ids.size(); ++i) index.emplace(ids[i], i);
  }
  auto it = index.find(id);
  if (it == index.end()) return std::nullopt;
  return it->second;
}

}  // namespace

const Attribute* Catalog::FindAttribute(std::string_view name) const { return FindIn(attributes_, name); }
std::optional<uint32_t> Catalog::FindProduct(std::string_view id) const { return FindId(ids_, index_, id); }

Catalog Catalog::FromColumns(std::vector<std::string> ids,
                             const std::vector<std::pair<std::string, std::vector<std::string>>>& attributes) {
  Catalog catalog;
  catalog.ids_ = StringColumn::FromOwned(std::move(ids));
  for (const auto& [name, values] : attributes) {
    std::vector<std::string> dict = {""};
    std::unordered_map<std::string_view, uint32_t> code_of = {{std::string_view(), kMissingCode}};
    auto codes = std::make_shared<std::vector<uint32_t>>();
    codes->reserve(values.size());
    for (const std::string& v : values) {
      auto [it, added] = code_of.emplace(v, static_cast<uint32_t>(dict.size()));
      if (added) {
        dict.push_back(v);
      }
      codes->push_back(it->second);
    }
    Attribute a;
    a.name = name;
    a.codes = *codes;
    a.dict = StringColumn::FromOwned(std::move(dict));
    catalog.attributes_.push_back(std::move(a));
    catalog.owned_codes_.push_back(std::move(codes));
  }
  return catalog;
}
const Attribute* Customers::FindAttribute(std::string_view name) const { return FindIn(attributes_, name); }
std::optional<uint32_t> Customers::Find(std::string_view id) const { return FindId(ids_, index_, id); }

Result<std::span<const char>> Dataset::MapColumn(const std::string& file, size_t elem_size, size_t count) {
  CF_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> map, MappedFile::Open(dir_ + "/" + file));
  if (map->size() != elem_size * count) {
    return Err(Status::Corruption(dir_ + "/" + file + ": holds " + std::to_string(map->size()) + " bytes, expected " +
                                  std::to_string(elem_size * count)));
  }
  std::span<const char> bytes(map->data(), map->size());
  maps_.push_back(std::move(map));
  return bytes;
}

Result<StringColumn> Dataset::MapStrings(const std::string& file) {
  CF_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> map, MappedFile::Open(dir_ + "/" + file));
  CF_ASSIGN_OR_RETURN(StringColumn col, StringColumn::FromBytes(map->view(), dir_ + "/" + file));
  maps_.push_back(std::move(map));
  return col;
}

namespace {
template <typename T>
std::span<const T> As(std::span<const char> bytes) {
  return {reinterpret_cast<const T*>(bytes.data()), bytes.size() / sizeof(T)};
}
}  // namespace

Result<std::unique_ptr<Dataset>> Dataset::Open(const std::string& dir) {
  auto ds = std::unique_ptr<Dataset>(new Dataset());
  ds->dir_ = dir;
  CF_ASSIGN_OR_RETURN(DatasetMeta meta, ReadMeta(dir));
  ds->first_time_ = meta.first_time;
  ds->last_time_ = meta.last_time;
  ds->has_products_ = meta.has_products;

  auto load_attrs = [&](const std::string& prefix, const std::vector<std::string>& names, size_t rows,
                        std::vector<Attribute>* out) -> Status {
    for (size_t i = 0; i < names.size(); ++i) {
      Attribute a;
      a.name = names[i];
      std::string base = prefix + ".attr." + std::to_string(i);
      CF_ASSIGN_OR_RETURN(auto codes, ds->MapColumn(base + ".codes.u32", sizeof(uint32_t), rows));
      a.codes = As<uint32_t>(codes);
      CF_ASSIGN_OR_RETURN(a.dict, ds->MapStrings(base + ".dict.str"));
      for (uint32_t c : a.codes) {
        if (c >= a.dict.size()) {
          return Status::Corruption(dir + "/" + base + ": code out of its dictionary");
        }
      }
      out->push_back(std::move(a));
    }
    return Status::OK();
  };

  Customers& cu = ds->customers_;
  CF_ASSIGN_OR_RETURN(cu.ids_, ds->MapStrings(kCustomerIds));
  CF_ASSIGN_OR_RETURN(cu.external_ids_, ds->MapStrings(kCustomerExternalIds));
  CF_ASSIGN_OR_RETURN(cu.device_ids_, ds->MapStrings(kCustomerDeviceIds));
  CF_ASSIGN_OR_RETURN(cu.aliases_, ds->MapStrings(kCustomerAliases));
  const size_t nc = cu.ids_.size();
  if (nc != meta.customers || cu.external_ids_.size() != nc || cu.device_ids_.size() != nc ||
      cu.aliases_.size() != nc) {
    return Err(Status::Corruption(dir + ": customer columns disagree with dataset.json"));
  }
  CF_RETURN_IF_ERROR(load_attrs("customers", meta.customer_attributes, nc, &cu.attributes_));

  Catalog& ca = ds->catalog_;
  CF_ASSIGN_OR_RETURN(ca.ids_, ds->MapStrings(kProductIds));
  const size_t np = ca.ids_.size();
  if (np != meta.products) {
    return Err(Status::Corruption(dir + ": product count disagrees with dataset.json"));
  }
  CF_RETURN_IF_ERROR(load_attrs("products", meta.product_attributes, np, &ca.attributes_));

  Events& ev = ds->events_;
  const size_t ne = meta.events;
  CF_ASSIGN_OR_RETURN(auto customer, ds->MapColumn(kEventCustomer, sizeof(uint32_t), ne));
  CF_ASSIGN_OR_RETURN(auto time, ds->MapColumn(kEventTime, sizeof(int64_t), ne));
  CF_ASSIGN_OR_RETURN(auto product, ds->MapColumn(kEventProduct, sizeof(uint32_t), ne));
  CF_ASSIGN_OR_RETURN(auto quantity, ds->MapColumn(kEventQuantity, sizeof(float), ne));
  CF_ASSIGN_OR_RETURN(auto revenue, ds->MapColumn(kEventRevenue, sizeof(float), ne));
  CF_ASSIGN_OR_RETURN(auto channel, ds->MapColumn(kEventChannel, sizeof(uint8_t), ne));
  CF_ASSIGN_OR_RETURN(auto store, ds->MapColumn(kEventStore, sizeof(uint32_t), ne));
  CF_ASSIGN_OR_RETURN(auto offsets, ds->MapColumn(kEventOffsets, sizeof(uint64_t), nc + 1));
  CF_ASSIGN_OR_RETURN(ev.stores_, ds->MapStrings(kEventStores));
  ev.customer_ = As<uint32_t>(customer);
  ev.time_ = As<int64_t>(time);
  ev.product_ = As<uint32_t>(product);
  ev.quantity_ = As<float>(quantity);
  ev.revenue_ = As<float>(revenue);
  ev.channel_ = As<uint8_t>(channel);
  ev.store_ = As<uint32_t>(store);
  ev.offsets_ = As<uint64_t>(offsets);
  if (ev.offsets_[nc] != ne) {
    return Err(Status::Corruption(dir + ": event offsets do not cover the events"));
  }
  return ds;
}

}  // namespace cf::data
