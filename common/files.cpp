#include "common/files.hpp"

#include "common/error.hpp"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace mcpmtls {
namespace {

std::string errno_text() { return std::strerror(errno); }

std::string parent_directory(const std::string& path) {
    auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

void fsync_directory(const std::string& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;  // best effort: the rename itself already happened
    ::fsync(fd);
    ::close(fd);
}

}  // namespace

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError("cannot read " + path + ": " + errno_text());
    std::ostringstream out;
    out << in.rdbuf();
    if (in.bad()) throw InputError("cannot read " + path);
    return out.str();
}

bool file_exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

namespace {

// Writes `content` to a new temporary file beside `path` (created with `mode` from the start)
// and fsyncs it; returns the temporary file's path. Leaves nothing behind when it throws.
std::string stage_file(const std::string& path, const std::string& content, mode_t mode) {
    std::string tmpl = path + ".tmp-XXXXXX";
    std::vector<char> name(tmpl.begin(), tmpl.end());
    name.push_back('\0');
    int fd = ::mkstemp(name.data());  // creates 0600
    if (fd < 0) throw OperationError("cannot create a temporary file next to " + path + ": " + errno_text());
    std::string tmp_path(name.data());
    auto fail = [&](const std::string& what) {
        int saved = errno;
        ::close(fd);
        ::unlink(tmp_path.c_str());
        errno = saved;
        throw OperationError(what + " " + path + ": " + errno_text());
    };
    if (::fchmod(fd, mode) != 0) fail("cannot set the mode of");
    size_t written = 0;
    while (written < content.size()) {
        ssize_t n = ::write(fd, content.data() + written, content.size() - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("cannot write");
        }
        written += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0) fail("cannot fsync");
    if (::close(fd) != 0) {
        ::unlink(tmp_path.c_str());
        throw OperationError("cannot close " + path + ": " + errno_text());
    }
    return tmp_path;
}

void rename_staged(const std::string& tmp_path, const std::string& path) {
    if (::rename(tmp_path.c_str(), path.c_str()) != 0) {
        int saved = errno;
        ::unlink(tmp_path.c_str());
        errno = saved;
        throw OperationError("cannot replace " + path + ": " + errno_text());
    }
}

}  // namespace

void write_file_atomic(const std::string& path, const std::string& content, mode_t mode) {
    rename_staged(stage_file(path, content, mode), path);
    fsync_directory(parent_directory(path));
}

void write_files_atomic(const std::vector<FileToWrite>& files) {
    std::vector<std::string> staged;
    try {
        for (const auto& file : files) staged.push_back(stage_file(file.path, file.content, file.mode));
    } catch (...) {
        for (const auto& tmp : staged) ::unlink(tmp.c_str());
        throw;
    }
    for (size_t i = 0; i < files.size(); ++i) {
        try {
            rename_staged(staged[i], files[i].path);
        } catch (...) {
            for (size_t j = i + 1; j < staged.size(); ++j) ::unlink(staged[j].c_str());
            throw;
        }
    }
    for (const auto& file : files) fsync_directory(parent_directory(file.path));
}

void make_directories(const std::string& path, mode_t mode) {
    if (path.empty()) return;
    std::string partial;
    std::stringstream parts(path);
    std::string part;
    if (path[0] == '/') partial = "/";
    while (std::getline(parts, part, '/')) {
        if (part.empty()) continue;
        partial += part;
        if (::mkdir(partial.c_str(), mode) != 0 && errno != EEXIST)
            throw OperationError("cannot create directory " + partial + ": " + errno_text());
        partial += '/';
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw OperationError(path + " is not a directory");
}

std::string file_stamp(const std::string& path) {
    if (path.empty()) return "-";
    char resolved[PATH_MAX];
    struct stat st {};
    if (!::realpath(path.c_str(), resolved) || ::stat(resolved, &st) != 0) return "missing";
    return std::string(resolved) + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
           std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

size_t raise_open_file_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
        getrlimit(RLIMIT_NOFILE, &limit);
    }
    return static_cast<size_t>(limit.rlim_cur);
}

FileLock::FileLock(const std::string& lock_path) {
    fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw OperationError("cannot open lock file " + lock_path + ": " + errno_text());
    while (::flock(fd_, LOCK_EX) != 0) {
        if (errno == EINTR) continue;
        int saved = errno;
        ::close(fd_);
        errno = saved;
        throw OperationError("cannot lock " + lock_path + ": " + errno_text());
    }
}

FileLock::~FileLock() {
    if (fd_ >= 0) {
        ::flock(fd_, LOCK_UN);
        ::close(fd_);
    }
}

}  // namespace mcpmtls
