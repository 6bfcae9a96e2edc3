// generate: registered here once the generator lands.
#include "apps/audience/commands.h"

namespace cf::cli {
void AddGenerateCommand(CLI::App&, int*) {}
}  // namespace cf::cli
