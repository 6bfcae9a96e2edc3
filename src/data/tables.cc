#include "data/tables.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/files.h"
#include "base/time.h"
#include "data/dataset.h"
#include "data/format.h"

namespace cf::data {

Interner::Interner() : offsets_{0}, slots_(16, Slot{kEmpty, 0}), mask_(15) {}

uint64_t Interner::Hash(std::string_view s) {
  // Eight bytes at a time, multiply-xorshift mixing; good enough for ids and names.
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ULL;
  uint64_t h = s.size() * kMul;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, s.data() + i, s.size() - i);
  h = (h ^ tail) * kMul;
  h ^= h >> 32;
  h *= 0xD6E8FEB86659FD93ULL;
  return h ^ (h >> 32);
}

uint32_t Interner::Intern(std::string_view s, bool* created) {
  const uint64_t h = Hash(s);
  const uint32_t tag = static_cast<uint32_t>(h >> 32);
  for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
    Slot& slot = slots_[i];
    if (slot.id == kEmpty) {
      uint32_t id = size();
      bytes_.append(s);
      offsets_.push_back(bytes_.size());
      slot = Slot{id, tag};
      *created = true;
      if (static_cast<uint64_t>(size()) * 2 > mask_) Grow();
      return id;
    }
    if (slot.hash == tag && (*this)[slot.id] == s) {
      *created = false;
      return slot.id;
    }
  }
}

int64_t Interner::Find(std::string_view s) const {
  const uint64_t h = Hash(s);
  const uint32_t tag = static_cast<uint32_t>(h >> 32);
  for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
    const Slot& slot = slots_[i];
    if (slot.id == kEmpty) return -1;
    if (slot.hash == tag && (*this)[slot.id] == s) return slot.id;
  }
}

void Interner::Grow() {
  std::vector<Slot> old;
  old.swap(slots_);
  mask_ = mask_ * 2 + 1;
  slots_.assign(mask_ + 1, Slot{kEmpty, 0});
  for (const Slot& s : old) {
    if (s.id == kEmpty) continue;
    uint64_t i = Hash((*this)[s.id]) & mask_;
    while (slots_[i].id != kEmpty) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

std::string Interner::Serialize() const {
  std::string out;
  out.reserve(sizeof(uint64_t) * (offsets_.size() + 1) + bytes_.size());
  uint64_t count = size();
  out.append(reinterpret_cast<const char*>(&count), sizeof count);
  out.append(reinterpret_cast<const char*>(offsets_.data()), offsets_.size() * sizeof(uint64_t));
  out += bytes_;
  return out;
}

void AttributeTable::Set(uint32_t row, std::string_view value) {
  if (codes.size() <= row) codes.resize(row + 1, kMissingCode);
  codes[row] = dict.Intern(value);
}

AttributeTable& EntityTable::Attribute(std::string_view name) {
  for (AttributeTable& a : attributes_) {
    if (a.name == name) return a;
  }
  attributes_.emplace_back();
  attributes_.back().name = std::string(name);
  return attributes_.back();
}

namespace {

// Asks for transparent huge pages under a large column: one page fault per 2 MB instead of
// per 4 KB while the column fills (where the kernel allows it; otherwise a no-op).
template <typename T>
void ReserveHuge(std::vector<T>& v, size_t n) {
  constexpr uintptr_t kHugePage = 2 << 20;
  v.reserve(n);
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(v.data()) + kHugePage - 1) & ~(kHugePage - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(v.data() + v.capacity())) & ~(kHugePage - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

}  // namespace

void EventColumns::Reserve(size_t n) {
  ReserveHuge(customer, n);
  ReserveHuge(time, n);
  ReserveHuge(product, n);
  ReserveHuge(quantity, n);
  ReserveHuge(revenue, n);
  ReserveHuge(channel, n);
  ReserveHuge(store, n);
}

void DatasetTables::PadIdentities() {
  size_t n = customers.size();
  external_ids.resize(n);
  device_ids.resize(n);
  aliases.resize(n);
}

void LoadTables(const Dataset& ds, DatasetTables* t) {
  const Customers& cu = ds.customers();
  bool created = false;
  for (uint32_t c = 0; c < cu.size(); ++c) {
    t->customers.Intern(cu.crm_id(c), &created);
    t->external_ids.emplace_back(cu.external_id(c));
    t->device_ids.emplace_back(cu.device_id(c));
    t->aliases.emplace_back(cu.aliases(c));
  }
  for (const auto& a : cu.attributes()) {
    AttributeTable& at = t->customers.Attribute(a.name);
    for (uint32_t c = 0; c < cu.size(); ++c) {
      if (a.codes[c] != kMissingCode) at.Set(c, a.value(c));
    }
  }
  const Catalog& ca = ds.catalog();
  for (uint32_t p = 0; p < ca.size(); ++p) t->products.Intern(ca.product_id(p), &created);
  for (const auto& a : ca.attributes()) {
    AttributeTable& at = t->products.Attribute(a.name);
    for (uint32_t p = 0; p < ca.size(); ++p) {
      if (a.codes[p] != kMissingCode) at.Set(p, a.value(p));
    }
  }
  t->has_products = ds.has_products();
  const Events& ev = ds.events();
  EventColumns& e = t->events;
  e.customer.assign(ev.customer().begin(), ev.customer().end());
  e.time.assign(ev.time().begin(), ev.time().end());
  e.product.assign(ev.product().begin(), ev.product().end());
  e.quantity.assign(ev.quantity().begin(), ev.quantity().end());
  e.revenue.assign(ev.revenue().begin(), ev.revenue().end());
  e.channel.assign(ev.channel().begin(), ev.channel().end());
  e.store.resize(ev.size());
  std::vector<uint32_t> remap(ev.stores().size());
  for (size_t i = 0; i < ev.stores().size(); ++i) remap[i] = e.stores.Intern(ev.stores()[i]);
  for (size_t i = 0; i < ev.size(); ++i) e.store[i] = remap[ev.store()[i]];
}

namespace {

Status WriteBytes(const std::string& path, const void* data, size_t size) {
  return WriteFileAtomic(path, std::string_view(static_cast<const char*>(data), size));
}

template <typename T>
Status WriteVector(const std::string& path, const std::vector<T>& v) {
  return WriteBytes(path, v.data(), v.size() * sizeof(T));
}

Status WriteStrings(const std::string& path, const std::vector<std::string>& v) {
  std::string bytes = StringColumn::Serialize(v);
  return WriteBytes(path, bytes.data(), bytes.size());
}

Status WriteStrings(const std::string& path, const Interner& v) {
  std::string bytes = v.Serialize();
  return WriteBytes(path, bytes.data(), bytes.size());
}

// Writes column[order[0]], column[order[1]], ... through a small buffer: no second copy of
// the column is ever held in memory.
template <typename T>
Status WritePermuted(const std::string& path, const std::vector<T>& column, const std::vector<uint32_t>& order) {
  constexpr size_t kBuffer = 1 << 16;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot create " + path + ": " + std::strerror(errno));
  std::vector<T> buf(kBuffer);
  Status status;
  for (size_t i = 0; i < order.size() && status.ok(); i += kBuffer) {
    size_t n = std::min(kBuffer, order.size() - i);
    for (size_t k = 0; k < n; ++k) buf[k] = column[order[i + k]];
    const char* p = reinterpret_cast<const char*>(buf.data());
    size_t left = n * sizeof(T);
    while (left > 0) {
      ssize_t w = ::write(fd, p, left);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        status = Status::IOError("cannot write " + path + ": " + std::strerror(errno));
        break;
      }
      p += w;
      left -= static_cast<size_t>(w);
    }
  }
  if (status.ok() && ::fsync(fd) != 0) status = Status::IOError("cannot sync " + path + ": " + std::strerror(errno));
  ::close(fd);
  return status;
}

Status WriteAttributes(const std::string& dir, const std::string& prefix, std::vector<AttributeTable>& attrs,
                       size_t rows, std::vector<std::string>* names) {
  for (size_t i = 0; i < attrs.size(); ++i) {
    AttributeTable& a = attrs[i];
    a.codes.resize(rows, kMissingCode);
    std::string base = dir + "/" + prefix + ".attr." + std::to_string(i);
    CF_RETURN_IF_ERROR(WriteVector(base + ".codes.u32", a.codes));
    CF_RETURN_IF_ERROR(WriteStrings(base + ".dict.str", a.dict.values()));
    names->push_back(a.name);
  }
  return Status::OK();
}

}  // namespace

Status WriteTables(DatasetTables& t, const std::string& dir) {
  t.PadIdentities();
  const size_t nc = t.customers.size();
  EventColumns& e = t.events;
  const size_t ne = e.size();

  // Counting sort by customer (stable), then by time within each customer.
  std::vector<uint64_t> offsets(nc + 1, 0);
  for (uint32_t c : e.customer) ++offsets[c + 1];
  for (size_t c = 0; c < nc; ++c) offsets[c + 1] += offsets[c];
  std::vector<uint32_t> order(ne);
  {
    std::vector<uint64_t> next(offsets.begin(), offsets.end() - 1);
    for (size_t i = 0; i < ne; ++i) order[next[e.customer[i]]++] = static_cast<uint32_t>(i);
  }
  for (size_t c = 0; c < nc; ++c) {
    auto b = order.begin() + static_cast<std::ptrdiff_t>(offsets[c]);
    auto en = order.begin() + static_cast<std::ptrdiff_t>(offsets[c + 1]);
    auto by_time = [&](uint32_t x, uint32_t y) { return e.time[x] < e.time[y]; };
    if (!std::is_sorted(b, en, by_time)) std::stable_sort(b, en, by_time);
  }

  DatasetMeta meta;
  meta.customers = nc;
  meta.products = t.products.size();
  meta.events = ne;
  meta.has_products = t.has_products;
  meta.batches = t.batches;
  if (ne > 0) {
    meta.first_time = *std::min_element(e.time.begin(), e.time.end());
    meta.last_time = *std::max_element(e.time.begin(), e.time.end());
  }
  CF_RETURN_IF_ERROR(WriteStrings(dir + "/" + kCustomerIds, t.customers.ids()));
  CF_RETURN_IF_ERROR(WriteStrings(dir + "/" + kCustomerExternalIds, t.external_ids));
  CF_RETURN_IF_ERROR(WriteStrings(dir + "/" + kCustomerDeviceIds, t.device_ids));
  CF_RETURN_IF_ERROR(WriteStrings(dir + "/" + kCustomerAliases, t.aliases));
  CF_RETURN_IF_ERROR(WriteAttributes(dir, "customers", t.customers.attributes(), nc, &meta.customer_attributes));
  CF_RETURN_IF_ERROR(WriteStrings(dir + "/" + kProductIds, t.products.ids()));
  CF_RETURN_IF_ERROR(
      WriteAttributes(dir, "products", t.products.attributes(), t.products.size(), &meta.product_attributes));
  CF_RETURN_IF_ERROR(WritePermuted(dir + "/" + kEventCustomer, e.customer, order));
  CF_RETURN_IF_ERROR(WritePermuted(dir + "/" + kEventTime, e.time, order));
  CF_RETURN_IF_ERROR(WritePermuted(dir + "/" + kEventProduct, e.product, order));
  CF_RETURN_IF_ERROR(WritePermuted(dir + "/" + kEventQuantity, e.quantity, order));
  CF_RETURN_IF_ERROR(WritePermuted(dir + "/" + kEventRevenue, e.revenue, order));
  CF_RETURN_IF_ERROR(WritePermuted(dir + "/" + kEventChannel, e.channel, order));
  CF_RETURN_IF_ERROR(WritePermuted(dir + "/" + kEventStore, e.store, order));
  CF_RETURN_IF_ERROR(WriteVector(dir + "/" + kEventOffsets, offsets));
  CF_RETURN_IF_ERROR(WriteStrings(dir + "/" + kEventStores, e.stores.values()));
  // The metadata goes last: a directory without it is never mistaken for a dataset.
  return WriteMeta(dir, meta);
}

Result<DatasetMeta> ReadMeta(const std::string& dir) {
  std::string path = dir + "/" + kMetaFile;
  if (!PathExists(path)) {
    return Err(Status::NotFound(dir + " is not a dataset (no " + kMetaFile + "); create one with `audience ingest`"));
  }
  CF_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  DatasetMeta m;
  try {
    auto j = nlohmann::json::parse(text);
    if (j.value("format", "") != "cohortflow-dataset" || j.value("version", 0) != kFormatVersion) {
      return Err(
          Status::Corruption(path + ": not a version " + std::to_string(kFormatVersion) + " cohortflow dataset"));
    }
    m.customers = j.at("customers").get<uint64_t>();
    m.products = j.at("products").get<uint64_t>();
    m.events = j.at("events").get<uint64_t>();
    m.first_time = j.at("first_time").get<int64_t>();
    m.last_time = j.at("last_time").get<int64_t>();
    m.has_products = j.at("has_products").get<bool>();
    m.customer_attributes = j.at("customer_attributes").get<std::vector<std::string>>();
    m.product_attributes = j.at("product_attributes").get<std::vector<std::string>>();
    if (j.contains("batches")) {
      for (const auto& b : j.at("batches")) {
        m.batches.push_back({b.at("file").get<std::string>(), b.at("bytes").get<uint64_t>(),
                             b.at("checksum").get<std::string>(), b.at("events").get<uint64_t>(),
                             b.value("ingested_at", "")});
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return Err(Status::Corruption(path + ": " + e.what()));
  }
  return m;
}

Status WriteMeta(const std::string& dir, const DatasetMeta& m) {
  nlohmann::json j = {
      {"format", "cohortflow-dataset"},
      {"version", kFormatVersion},
      {"customers", m.customers},
      {"products", m.products},
      {"events", m.events},
      {"first_time", m.first_time},
      {"last_time", m.last_time},
      {"first_event", m.events > 0 ? FormatIsoTime(m.first_time) : ""},
      {"last_event", m.events > 0 ? FormatIsoTime(m.last_time) : ""},
      {"has_products", m.has_products},
      {"customer_attributes", m.customer_attributes},
      {"product_attributes", m.product_attributes},
  };
  nlohmann::json batches = nlohmann::json::array();
  for (const Batch& b : m.batches) {
    batches.push_back({{"file", b.file},
                       {"bytes", b.bytes},
                       {"checksum", b.checksum},
                       {"events", b.events},
                       {"ingested_at", b.ingested_at}});
  }
  j["batches"] = std::move(batches);
  // Names come from users' files: never let one byte that is not UTF-8 make the dump throw.
  return WriteFileAtomic(dir + "/" + kMetaFile, j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace cf::data
