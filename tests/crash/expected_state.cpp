// tests/crash/expected_state.cpp — creating and mapping the oracle file
// (MAP_SHARED, so the child's stores survive its SIGKILL).
#include "expected_state.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>

namespace strata::crash {

namespace {

std::runtime_error os_error(const std::string& what, const std::string& path) {
  return std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

void* map_file(int fd, std::size_t bytes, const std::string& path) {
  void* base = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) throw os_error("mmap", path);
  return base;
}

}  // namespace

std::size_t expected_state::slots_offset() { return (sizeof(state_header) + 4095) / 4096 * 4096; }

expected_state expected_state::create(const std::string& path, std::uint32_t num_keys, std::uint32_t workers) {
  if (workers == 0 || workers > max_workers)
    throw std::invalid_argument("workers must be 1.." + std::to_string(max_workers));
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw os_error("open", path);
  const std::size_t bytes = slots_offset() + std::size_t{num_keys} * sizeof(std::uint64_t);
  if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    ::close(fd);
    throw os_error("ftruncate", path);
  }
  void* base = map_file(fd, bytes, path);
  ::close(fd);
  expected_state s(base, bytes);
  auto* h = new (base) state_header{};  // the file is zeros; this makes the header an object
  h->num_keys = num_keys;
  h->workers = workers;
  store(h->magic, state_magic);
  return s;
}

expected_state expected_state::attach(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) throw os_error("open", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || static_cast<std::size_t>(st.st_size) < slots_offset()) {
    ::close(fd);
    throw std::runtime_error("state file " + path + " is too short");
  }
  const auto bytes = static_cast<std::size_t>(st.st_size);
  void* base = map_file(fd, bytes, path);
  ::close(fd);
  expected_state s(base, bytes);
  const auto& h = s.header();
  if (h.magic != state_magic || bytes != slots_offset() + h.num_keys * sizeof(std::uint64_t)) {
    throw std::runtime_error("state file " + path + " is not a crash-test state file");
  }
  return s;
}

expected_state::expected_state(expected_state&& other) noexcept : base_(other.base_), bytes_(other.bytes_) {
  other.base_ = nullptr;
  other.bytes_ = 0;
}

expected_state::~expected_state() {
  if (base_ != nullptr) ::munmap(base_, bytes_);
}

}  // namespace strata::crash
