#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "util/huge_pages.hpp"

namespace util = strata::util;

namespace {

// The VmFlags line of the mapping that holds p, from /proc/self/smaps ("" if
// none does): "hg" there means MADV_HUGEPAGE was applied to it.
std::string vm_flags_of(const void* p) {
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
      inside = lo <= at && at < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return {};
}

bool has_flag(const std::string& flags, const std::string& flag) {
  return (flags + " ").find(" " + flag + " ") != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(huge_pages)

BOOST_AUTO_TEST_CASE(small_allocations_are_ordinary) {
  BOOST_TEST(util::footprint_of(100) == 100u);
  BOOST_TEST(util::footprint_of(util::huge_page_threshold - 1) == util::huge_page_threshold - 1);
  void* p = util::allocate_maybe_huge(4096);
  std::memset(p, 0xab, 4096);
  BOOST_TEST(!has_flag(vm_flags_of(p), "hg"));
  util::deallocate_maybe_huge(p, 4096);
}

BOOST_AUTO_TEST_CASE(large_allocations_are_aligned_advised_huge_mappings) {
  for (const std::size_t bytes :
       {util::huge_page_threshold, util::huge_page_size, util::huge_page_size + 1, 5 * util::huge_page_size / 2}) {
    BOOST_TEST_CONTEXT("bytes " << bytes) {
      const std::size_t footprint = util::footprint_of(bytes);
      BOOST_TEST(footprint % util::huge_page_size == 0u);
      BOOST_TEST(footprint >= bytes);
      BOOST_TEST(footprint < bytes + util::huge_page_size);
      auto* p = static_cast<unsigned char*>(util::allocate_maybe_huge(bytes));
      BOOST_TEST(reinterpret_cast<std::uintptr_t>(p) % util::huge_page_size == 0u);
      BOOST_TEST(has_flag(vm_flags_of(p), "hg"));
      BOOST_TEST(has_flag(vm_flags_of(p + footprint - 1), "hg"));
      // Every page of the requested bytes is usable, the last byte included.
      for (std::size_t i = 0; i < bytes; i += 4096) p[i] = static_cast<unsigned char>(i / 4096);
      for (std::size_t i = 0; i < bytes; i += 4096) BOOST_REQUIRE(p[i] == static_cast<unsigned char>(i / 4096));
      p[bytes - 1] = 7;
      BOOST_TEST(p[bytes - 1] == 7);
      util::deallocate_maybe_huge(p, bytes);
      BOOST_TEST(vm_flags_of(p).empty());  // the whole mapping is gone
    }
  }
}

BOOST_AUTO_TEST_CASE(vector_keeps_its_contents_across_the_threshold) {
  std::vector<std::uint64_t, util::huge_page_allocator<std::uint64_t>> v;
  const std::size_t n = 3 * util::huge_page_threshold / sizeof(std::uint64_t);
  for (std::size_t i = 0; i < n; ++i) v.push_back(i * 31);
  BOOST_TEST(has_flag(vm_flags_of(v.data()), "hg"));
  for (std::size_t i = 0; i < n; ++i) BOOST_REQUIRE(v[i] == i * 31);
  v.resize(10);
  v.shrink_to_fit();
  BOOST_TEST(!has_flag(vm_flags_of(v.data()), "hg"));
  BOOST_TEST(v[9] == 9u * 31);
}

BOOST_AUTO_TEST_CASE(buffer_moves_own_their_memory) {
  util::huge_buffer a(2 * util::huge_page_threshold);
  a.data()[0] = 'x';
  const char* where = a.data();
  util::huge_buffer b(std::move(a));
  BOOST_TEST(a.data() == nullptr);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  BOOST_TEST(a.size() == 0u);
  BOOST_TEST(b.data() == where);
  BOOST_TEST(b.data()[0] == 'x');
  util::huge_buffer c(16);
  c = std::move(b);  // frees c's old 16 bytes (ASan would see a leak otherwise)
  BOOST_TEST(c.data() == where);
  BOOST_TEST(c.size() == 2 * util::huge_page_threshold);
  c = util::huge_buffer();
  BOOST_TEST(vm_flags_of(where).empty());
}

BOOST_AUTO_TEST_SUITE_END()
