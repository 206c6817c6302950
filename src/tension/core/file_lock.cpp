#include "tension/core/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "tension/core/error.h"

namespace tension {

FileLock::FileLock(const std::string& path, const std::string& what) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(path + ": cannot open the lock file: " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char holder[32] = {0};
    const ssize_t n = ::pread(fd_, holder, sizeof(holder) - 1, 0);
    ::close(fd_);
    fd_ = -1;
    if (err != EWOULDBLOCK) throw Error(path + ": cannot lock: " + std::strerror(err));
    const std::string pid = n > 0 ? std::string(holder, static_cast<size_t>(n)) : "unknown";
    throw Error(what + " is in use by another tension process (pid " + pid +
                "): wait for it to finish, or write to another folder");
  }
  // The pid only makes a refusal's message more helpful: the lock holds whether or not it is written.
  const std::string pid = std::to_string(::getpid());
  [[maybe_unused]] const bool written = ::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, pid.data(), pid.size(), 0) > 0;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the lock
}

}  // namespace tension
