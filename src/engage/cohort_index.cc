#include "engage/cohort_index.h"

#include <mutex>

namespace cf::engage {

std::string SerializeBitmap(const Roaring& bitmap) {
  Roaring copy = bitmap;
  copy.runOptimize();  // long runs of consecutive indexes store in a few bytes
  std::string out(copy.getSizeInBytes(true), '\0');
  copy.write(out.data(), true);
  return out;
}

Result<Roaring> DeserializeBitmap(const std::string& bytes) {
  if (bytes.empty()) return Roaring();
  try {
    return Roaring::readSafe(bytes.data(), bytes.size());
  } catch (const std::exception& e) {
    return Err(Status::Corruption(std::string("a stored cohort bitmap does not read back: ") + e.what()));
  }
}

namespace {

// Each record's snapshot with its deltas applied in order.
Result<std::unordered_map<int64_t, CohortIndex::Entry>> Decode(const std::vector<CohortBitmapRecord>& records) {
  std::unordered_map<int64_t, CohortIndex::Entry> loaded;
  for (const auto& r : records) {
    CohortIndex::Entry& e = loaded[r.cohort_pk];
    CF_ASSIGN_OR_RETURN(e.members, DeserializeBitmap(r.snapshot));
    for (const auto& [added, removed] : r.deltas) {
      CF_ASSIGN_OR_RETURN(Roaring a, DeserializeBitmap(added));
      CF_ASSIGN_OR_RETURN(Roaring d, DeserializeBitmap(removed));
      e.members |= a;
      e.members -= d;
      ++e.deltas;
    }
  }
  return loaded;
}

}  // namespace

Status CohortIndex::Load(Transaction& txn) {
  CF_ASSIGN_OR_RETURN(auto records, txn.LoadCohortBitmaps());
  CF_ASSIGN_OR_RETURN(auto loaded, Decode(records));
  std::unique_lock lock(mu_);
  cohorts_ = std::move(loaded);
  return Status::OK();
}

Status CohortIndex::Reload(Transaction& txn, const std::vector<int64_t>& cohort_pks) {
  if (cohort_pks.empty()) return Status::OK();
  CF_ASSIGN_OR_RETURN(auto records, txn.LoadCohortBitmapsOf(cohort_pks));
  CF_ASSIGN_OR_RETURN(auto loaded, Decode(records));
  std::unique_lock lock(mu_);
  for (int64_t pk : cohort_pks) {
    auto it = loaded.find(pk);
    if (it == loaded.end()) {
      cohorts_.erase(pk);
    } else {
      cohorts_[pk] = std::move(it->second);
    }
  }
  return Status::OK();
}

Roaring CohortIndex::Members(int64_t cohort_pk) const {
  std::shared_lock lock(mu_);
  auto it = cohorts_.find(cohort_pk);
  return it == cohorts_.end() ? Roaring() : it->second.members;
}

Roaring CohortIndex::Union(const std::vector<int64_t>& cohort_pks) const {
  std::shared_lock lock(mu_);
  Roaring out;
  for (int64_t pk : cohort_pks) {
    auto it = cohorts_.find(pk);
    if (it != cohorts_.end()) out |= it->second.members;
  }
  return out;
}

bool CohortIndex::Contains(int64_t cohort_pk, ProfileIndex index) const {
  std::shared_lock lock(mu_);
  auto it = cohorts_.find(cohort_pk);
  return it != cohorts_.end() && it->second.members.contains(index);
}

std::vector<int64_t> CohortIndex::CohortsOf(ProfileIndex index) const {
  std::shared_lock lock(mu_);
  std::vector<int64_t> out;
  for (const auto& [pk, e] : cohorts_) {
    if (e.members.contains(index)) out.push_back(pk);
  }
  return out;
}

Status CohortIndex::Persist(Transaction& txn, const CohortDelta& delta) const {
  if (delta.added.isEmpty() && delta.removed.isEmpty()) return Status::OK();
  std::shared_lock lock(mu_);
  auto it = cohorts_.find(delta.cohort_pk);
  const int deltas = it == cohorts_.end() ? 0 : it->second.deltas;
  if (deltas + 1 < options_.deltas_per_snapshot) {
    return txn.AppendCohortDelta(delta.cohort_pk, SerializeBitmap(delta.added), SerializeBitmap(delta.removed));
  }
  Roaring next = it == cohorts_.end() ? Roaring() : it->second.members;
  next |= delta.added;
  next -= delta.removed;
  return txn.WriteCohortSnapshot(delta.cohort_pk, SerializeBitmap(next));
}

CohortIndex::Entry CohortIndex::Save(int64_t cohort_pk) const {
  std::shared_lock lock(mu_);
  auto it = cohorts_.find(cohort_pk);
  return it == cohorts_.end() ? Entry() : it->second;
}

void CohortIndex::Restore(int64_t cohort_pk, Entry entry) {
  std::unique_lock lock(mu_);
  cohorts_[cohort_pk] = std::move(entry);
}

void CohortIndex::Apply(const CohortDelta& delta) {
  if (delta.added.isEmpty() && delta.removed.isEmpty()) return;
  std::unique_lock lock(mu_);
  Entry& e = cohorts_[delta.cohort_pk];
  e.members |= delta.added;
  e.members -= delta.removed;
  e.deltas = e.deltas + 1 < options_.deltas_per_snapshot ? e.deltas + 1 : 0;
}

}  // namespace cf::engage
