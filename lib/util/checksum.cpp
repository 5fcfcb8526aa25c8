#include "util/checksum.hpp"

#define XXH_STATIC_LINKING_ONLY  // exposes XXH3_state_t so it can live inline
#include <xxhash.h>

namespace strata {

std::uint64_t checksum64(std::string_view data) noexcept { return XXH3_64bits(data.data(), data.size()); }

std::uint32_t checksum32(std::string_view data) noexcept { return static_cast<std::uint32_t>(checksum64(data)); }

struct checksum_stream::state {
  XXH3_state_t xxh;
};

checksum_stream::checksum_stream() : state_(std::make_unique<state>()) { reset(); }
checksum_stream::~checksum_stream() = default;

void checksum_stream::reset() noexcept { XXH3_64bits_reset(&state_->xxh); }

checksum_stream& checksum_stream::update(std::string_view data) noexcept {
  XXH3_64bits_update(&state_->xxh, data.data(), data.size());
  return *this;
}

std::uint64_t checksum_stream::digest64() const noexcept { return XXH3_64bits_digest(&state_->xxh); }

}  // namespace strata
