// train, score, evaluate: registered here once the model lands (issue 4).
#include "apps/audience/commands.h"

namespace cf::cli {
void AddModelCommands(CLI::App&, int*) {}
}  // namespace cf::cli
