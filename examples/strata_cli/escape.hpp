// examples/strata_cli/escape.hpp — keys and values made safe to print:
// printable ASCII as is, a backslash as \\, every other byte as \xNN.
#pragma once

#include <string>
#include <string_view>

namespace strata_cli {

std::string escape(std::string_view bytes);

}  // namespace strata_cli
