// Open MPI behind cf::Collective, for `mpirun -np N audience score|top-offers|plan`: the only
// code that includes <mpi.h>. Built with MPI when CMake finds it (CF_MPI, on by default);
// without it, a run under mpirun with more than one rank is refused instead of running the
// whole job N times over.
#pragma once

#include <memory>

#include "base/collective.h"
#include "base/status.h"

namespace cf::dist {

// The ranks of this run, for as long as it lives: MPI is initialized only when a launcher
// started the process (mpirun sets OMPI_COMM_WORLD_SIZE, PMIx launchers PMIX_RANK), so a plain
// `audience` run neither needs nor starts an MPI runtime. Finalized by the destructor.
class Ranks {
 public:
  // Initializes MPI when launched by mpirun. Fails when launched with more than one rank by a
  // build without MPI.
  static Result<std::unique_ptr<Ranks>> Start();
  ~Ranks();
  Ranks(const Ranks&) = delete;
  Ranks& operator=(const Ranks&) = delete;

  // Null for one process (not launched by mpirun, or -np 1); else every rank's collective.
  const Collective* collective() const { return collective_.get(); }
  bool root() const { return collective_ == nullptr || collective_->rank() == 0; }

 private:
  Ranks() = default;
  std::unique_ptr<Collective> collective_;
  bool initialized_ = false;
};

// Whether this build has MPI (for --version and the docs).
bool BuiltWithMpi();

}  // namespace cf::dist
