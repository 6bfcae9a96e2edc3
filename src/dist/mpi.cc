#include "dist/mpi.h"

#include "base/log.h"

#include <fmt/format.h>

#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#ifdef CF_WITH_MPI
#include <mpi.h>
#endif

namespace cf::dist {
namespace {

// The number of ranks the launcher says this run has: 0 when not started by a launcher.
int LaunchedRanks() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"}) {
    if (const char* v = std::getenv(name); v != nullptr && *v != '\0') {
      return std::atoi(v);
    }
  }
  // PMIx launchers that do not say the size still say the rank.
  return std::getenv("PMIX_RANK") != nullptr ? 1 : 0;
}

#ifdef CF_WITH_MPI
class MpiCollective final : public Collective {
 public:
  MpiCollective() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::vector<double> AllGather(std::span<const double> mine) const override { return Gather(mine, MPI_DOUBLE, true); }
  std::vector<float> AllGather(std::span<const float> mine) const override { return Gather(mine, MPI_FLOAT, true); }
  std::vector<uint32_t> AllGather(std::span<const uint32_t> mine) const override {
    return Gather(mine, MPI_UINT32_T, true);
  }
  std::vector<double> GatherToRoot(std::span<const double> mine) const override {
    return Gather(mine, MPI_DOUBLE, false);
  }
  std::vector<float> GatherToRoot(std::span<const float> mine) const override { return Gather(mine, MPI_FLOAT, false); }
  std::vector<uint32_t> GatherToRoot(std::span<const uint32_t> mine) const override {
    return Gather(mine, MPI_UINT32_T, false);
  }
  void Sum(std::span<double> values) const override {
    ++exchanges_;
    bytes_ += values.size() * sizeof(double);
    // Large vectors go in pieces: MPI counts are ints.
    constexpr size_t kPiece = 1 << 26;
    for (size_t at = 0; at < values.size(); at += kPiece) {
      const int n = static_cast<int>(std::min(kPiece, values.size() - at));
      MPI_Allreduce(MPI_IN_PLACE, values.data() + at, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    }
  }

 private:
  template <typename T>
  // To every rank (`all`) or to rank 0 only.
  std::vector<T> Gather(std::span<const T> mine, MPI_Datatype type, bool all_ranks) const {
    // Every part's size first, then the parts. Counts are ints in MPI: a part of 2^31 values
    // or more would need derived types, far beyond what one rank holds per exchange here.
    if (mine.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
      std::fprintf(stderr, "audience: an MPI exchange of %zu values is too large for one rank\n", mine.size());
      MPI_Abort(MPI_COMM_WORLD, 2);
    }
    const int count = static_cast<int>(mine.size());
    std::vector<int> counts(static_cast<size_t>(size_)), offsets(static_cast<size_t>(size_));
    MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
    size_t total = 0;
    for (int r = 0; r < size_; ++r) {
      offsets[static_cast<size_t>(r)] = static_cast<int>(total);
      total += static_cast<size_t>(counts[static_cast<size_t>(r)]);
    }
    if (total > static_cast<size_t>(std::numeric_limits<int>::max())) {
      std::fprintf(stderr, "audience: an MPI exchange of %zu values in all is too large for int offsets\n", total);
      MPI_Abort(MPI_COMM_WORLD, 2);
    }
    ++exchanges_;
    const bool receives = all_ranks || rank_ == 0;
    bytes_ += receives ? total * sizeof(T) : 0;
    std::vector<T> all(receives ? total : 0);
    if (all_ranks) {
      MPI_Allgatherv(mine.data(), count, type, all.data(), counts.data(), offsets.data(), type, MPI_COMM_WORLD);
    } else {
      MPI_Gatherv(mine.data(), count, type, all.data(), counts.data(), offsets.data(), type, 0, MPI_COMM_WORLD);
    }
    return all;
  }
  int rank_ = 0, size_ = 1;

 public:
  // What this rank received: the network cost of a sharded run (logged at debug at the end).
  mutable uint64_t exchanges_ = 0, bytes_ = 0;
};
#endif

}  // namespace

Result<std::unique_ptr<Ranks>> Ranks::Start() {
  auto ranks = std::unique_ptr<Ranks>(new Ranks());
  const int launched = LaunchedRanks();
  if (launched == 0) {
    return ranks;
  }
#ifdef CF_WITH_MPI
  int provided = 0;
  // Only the main thread calls MPI; the scoring threads never do.
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    return Err(Status::Internal("MPI_Init_thread failed"));
  }
  ranks->initialized_ = true;
  auto collective = std::make_unique<MpiCollective>();
  if (collective->size() > 1) {
    ranks->collective_ = std::move(collective);
  }
  return ranks;
#else
  if (launched > 1) {
    return Err(Status::FailedPrecondition(
        fmt::format("started by an MPI launcher with {} ranks, but this audience was built without MPI: every "
                    "rank would run the whole job and write the same files; install libopenmpi-dev and rebuild "
                    "(scripts/install-deps, CF_MPI=ON), or run one process",
                    launched)));
  }
  return ranks;
#endif
}

Ranks::~Ranks() {
#ifdef CF_WITH_MPI
  if (initialized_) {
    if (const auto* mpi = dynamic_cast<const MpiCollective*>(collective_.get()); mpi != nullptr) {
      CF_LOG_DEBUG("rank {} of {}: {} exchanges, {:.1f} MB received", mpi->rank(), mpi->size(), mpi->exchanges_,
                   static_cast<double>(mpi->bytes_) / 1e6);
    }
    collective_.reset();
    MPI_Finalize();
  }
#endif
}

bool BuiltWithMpi() {
#ifdef CF_WITH_MPI
  return true;
#else
  return false;
#endif
}

}  // namespace cf::dist
