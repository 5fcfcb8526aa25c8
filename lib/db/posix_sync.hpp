// db/posix_sync.hpp — blocking file writes and syncs for the db's metadata
// files (MANIFEST, CURRENT) and directory entries.
//
// For the background executor only (they block). Errors become
// errc::io_error / no_space with the failed call and path in `message`.
#pragma once

#include <string>
#include <string_view>
#include <system_error>

namespace strata::db_internal {

// Writes all of `bytes` at the fd's position (retrying short writes and EINTR).
std::error_code write_all(int fd, std::string_view bytes, const std::string& path, std::string& message);
std::error_code sync_fd(int fd, const std::string& path, std::string& message);
// fsync of a directory: makes the names created or renamed in it durable.
std::error_code sync_dir(const std::string& dir, std::string& message);

}  // namespace strata::db_internal
