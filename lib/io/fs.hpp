// io/fs.hpp — every change to a directory's names (create, remove, rename,
// directory sync) and the blocking writes, syncs and truncations of files
// that do not go through an io_engine (MANIFEST, CURRENT, a torn WAL tail).
//
// Why one place: durability depends on these calls happening in the right
// order (a file's data synced before a MANIFEST names it, the directory
// synced before a synced write in a new file is acknowledged), and tests
// must be able to see and fail every one of them. Each call reports to the
// process-wide fault injector (if a test installed one) before and after it
// runs; the power-loss simulator in tests/unit/fault_injection.hpp rebuilds
// "what a power cut would leave" from exactly these reports.
//
// All calls block: background executor only (ARCHITECTURE.md, "Threading
// and I/O model"). Thread-safe. Errors are errc::io_error / no_space and
// `message` names the call and the path ("fsync directory /d: ...").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "io/io_engine.hpp"

namespace strata::io {

// The process-wide test hook: consulted by the functions below and by
// io::file::open, and installed on the engine of every db opened while it
// is set. nullptr (the default): no faults, no observation.
fault_injector* process_fault_injector() noexcept;
void set_process_fault_injector(fault_injector* f) noexcept;

// open(2) with EINTR retried; with O_CREAT, a file that did not exist is
// reported as created. Returns the fd, or -1 with `ec` set.
int open_fd(const std::string& path, int flags, std::error_code& ec);
// Removes a file's name; a missing file is not an error.
std::error_code remove_file(const std::string& path);
std::error_code rename_file(const std::string& from, const std::string& to, std::string& message);
// fsync of a directory: makes the names created, removed or renamed in it durable.
std::error_code sync_dir(const std::string& dir, std::string& message);
// Writes all of `bytes` at the fd's position (short writes and EINTR retried).
std::error_code write_all(int fd, std::string_view bytes, const std::string& path, std::string& message);
std::error_code sync_fd(int fd, const std::string& path, std::string& message);
// ftruncate then fdatasync.
std::error_code truncate_fd(int fd, std::uint64_t length, const std::string& path, std::string& message);

// The directory part of a file's path ("." when there is none).
std::string parent_dir(const std::string& path);

}  // namespace strata::io
