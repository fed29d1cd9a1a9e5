#pragma once
#include <string>
#include <vector>
#include <sys/types.h>

namespace mcpmtls {

// Reads a whole file; throws InputError naming the file when it cannot be read.
std::string read_file(const std::string& path);

bool file_exists(const std::string& path);

// Writes through a temporary file in the same directory, fsyncs it, renames it over `path` and
// fsyncs the directory, so readers see the old or the new content, never a torn file. The
// temporary file is created with `mode` from the start: a key is never world-readable, even
// for an instant.
void write_file_atomic(const std::string& path, const std::string& content, mode_t mode = 0644);

struct FileToWrite {
    std::string path;
    std::string content;
    mode_t mode = 0644;
};
// Several files that belong together (a renewed certificate, its key, its trust bundle): every
// one is written and fsynced to a temporary file first, then all are renamed in the order given,
// back to back, so that a reader sees a mixed set only for the moment between two renames, and
// a failure while writing leaves every old file as it was.
void write_files_atomic(const std::vector<FileToWrite>& files);

// What a file is now, through every symlink: its resolved path, inode, size and modification
// time ("missing" if it cannot be read, "-" for no path). Reloaders compare stamps: kubelet's
// tls.crt is a link to ..data/tls.crt and only ..data changes (renamed over to a new
// timestamped directory), so neither the visible link nor its target string ever does, but
// the resolved path changes with every swap.
std::string file_stamp(const std::string& path);

// Creates the directory (and parents) if missing.
void make_directories(const std::string& path, mode_t mode = 0755);

// Raises the soft limit on open files to the hard limit, as Go programs do at start: a server
// with a thousand connections (or a load generator opening them) needs more than the common
// default of 1024. Returns the limit now in force.
size_t raise_open_file_limit();

// An exclusive advisory lock (flock) on a lock file, held for the object's lifetime.
class FileLock {
public:
    explicit FileLock(const std::string& lock_path);
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace mcpmtls
