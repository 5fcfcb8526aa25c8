// examples/strata_cli/commands.hpp — the subcommands, by the file that
// implements them; main.cpp lists and dispatches them in this order.
#pragma once

#include <vector>

#include "command.hpp"

namespace strata_cli {

// get, put, delete, scan, stats, compact: through the public strata::db API.
std::vector<command> db_commands();
// dump-sst, dump-wal: one file, read with the library's internal readers.
std::vector<command> file_commands();
// verify: every live file of a db, read directly (never through db::open).
std::vector<command> verify_commands();

}  // namespace strata_cli
