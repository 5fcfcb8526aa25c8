#include "strata/error.hpp"

namespace strata {
namespace {

class strata_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "strata"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::ok:
        return "success";
      case errc::invalid_argument:
        return "invalid argument";
      case errc::not_found:
        return "not found";
      case errc::corruption:
        return "data corruption";
      case errc::io_error:
        return "I/O error";
      case errc::busy:
        return "resource busy";
      case errc::closed:
        return "closed";
      case errc::no_space:
        return "no space left on device";
      case errc::sealed:
        return "memtable is sealed";
      case errc::out_of_memory:
        return "memory limit reached";
      case errc::not_supported:
        return "operation not supported";
    }
    return "unknown strata error " + std::to_string(value);
  }

  // Lets callers compare our codes with the portable std::errc conditions.
  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<errc>(value)) {
      case errc::invalid_argument:
        return std::errc::invalid_argument;
      case errc::io_error:
        return std::errc::io_error;
      case errc::busy:
        return std::errc::device_or_resource_busy;
      case errc::no_space:
        return std::errc::no_space_on_device;
      case errc::out_of_memory:
        return std::errc::not_enough_memory;
      case errc::not_supported:
        return std::errc::not_supported;
      default:
        return {value, *this};
    }
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const strata_category category;
  return category;
}

const char* errc_name(errc e) noexcept {
  switch (e) {
    case errc::ok:
      return "ok";
    case errc::invalid_argument:
      return "invalid_argument";
    case errc::not_found:
      return "not_found";
    case errc::corruption:
      return "corruption";
    case errc::io_error:
      return "io_error";
    case errc::busy:
      return "busy";
    case errc::closed:
      return "closed";
    case errc::no_space:
      return "no_space";
    case errc::sealed:
      return "sealed";
    case errc::out_of_memory:
      return "out_of_memory";
    case errc::not_supported:
      return "not_supported";
  }
  return "unknown";
}

}  // namespace strata
