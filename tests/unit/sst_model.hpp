// tests/unit/sst_model.hpp — the reference model SST tests compare against:
// a std::map of internal key -> value in internal-key order.
#pragma once

#include <map>
#include <string>

#include "sst/internal_key.hpp"

namespace strata::testing {

struct internal_less {
  bool operator()(const std::string& a, const std::string& b) const { return sst::compare_internal_keys(a, b) < 0; }
};
using sst_model = std::map<std::string, std::string, internal_less>;

}  // namespace strata::testing
