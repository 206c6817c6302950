#pragma once
// An exclusive lock on a file (flock), held while the object lives: one writer per run. The kernel drops it when
// the process ends, however it ends (SIGKILL included), so a crashed run never leaves a stale lock behind.
#include <string>

namespace tension {

class FileLock {
 public:
  // Takes the lock on `path` (created when missing) without waiting, and writes this process's id into it. When
  // another process (or another FileLock of this one) holds it, throws tension::Error: "`what` is in use by
  // another tension process (pid N)...".
  FileLock(const std::string& path, const std::string& what);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace tension
