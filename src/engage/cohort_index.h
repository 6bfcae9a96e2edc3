// Cohort membership in memory: one Roaring bitmap of profile indexes per cohort, loaded from
// the store at start and kept in step with it by the single writer (see Engage).
#pragma once

#include <cstdint>
#include <roaring/roaring.hh>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engage/storage.h"

namespace cf::engage {

// A membership change of one cohort, written as a delta and then applied in memory.
struct CohortDelta {
  int64_t cohort_pk = 0;
  Roaring added;    // only indexes that were not members
  Roaring removed;  // only indexes that were members
};

struct CohortIndexOptions {
  int deltas_per_snapshot = 64;  // after this many deltas a cohort is rewritten as one snapshot
};

class CohortIndex {
 public:
  explicit CohortIndex(CohortIndexOptions options = {}) : options_(options) {}

  // Replaces the in-memory state with the store's (snapshot plus deltas, in order).
  Status Load(Transaction& txn);
  // The same for `cohort_pks` only (another server wrote them); the others are kept.
  Status Reload(Transaction& txn, const std::vector<int64_t>& cohort_pks);

  // A copy of the cohort's members (empty for an unknown cohort).
  Roaring Members(int64_t cohort_pk) const;
  // The union of the members of `cohort_pks`.
  Roaring Union(const std::vector<int64_t>& cohort_pks) const;
  bool Contains(int64_t cohort_pk, ProfileIndex index) const;
  // The cohorts that contain `index`.
  std::vector<int64_t> CohortsOf(ProfileIndex index) const;

  // Persists `delta` in `txn` (as a delta, or as a fresh snapshot when the cohort has many).
  // Call Apply() with the same delta once `txn` committed, while still the only writer.
  Status Persist(Transaction& txn, const CohortDelta& delta) const;
  void Apply(const CohortDelta& delta);

  struct Entry {
    Roaring members;
    int deltas = 0;  // deltas stored since the last snapshot
  };
  // A copy of a cohort's state, and putting it back (to undo Apply() after a failed commit).
  Entry Save(int64_t cohort_pk) const;
  void Restore(int64_t cohort_pk, Entry entry);

 private:
  CohortIndexOptions options_;
  mutable std::shared_mutex mu_;
  std::unordered_map<int64_t, Entry> cohorts_;
};

// Portable serialization, the format stored in the database.
std::string SerializeBitmap(const Roaring& bitmap);
Result<Roaring> DeserializeBitmap(const std::string& bytes);

}  // namespace cf::engage
