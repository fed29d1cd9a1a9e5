#include "client/stdio_channel.hpp"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <stdexcept>
#include <unistd.h>

namespace mcpmtls::client {

LineReader::LineReader(int fd, size_t max_line_bytes, int wake_fd) : fd_(fd), max_line_bytes_(max_line_bytes), wake_fd_(wake_fd) {}

bool LineReader::fill() {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    const nfds_t count = wake_fd_ >= 0 ? 2 : 1;
    for (;;) {
        if (::poll(fds, count, -1) < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error(std::string("poll on stdin failed: ") + std::strerror(errno));
        }
        if (count == 2 && (fds[1].revents & POLLIN)) {
            woken_ = true;
            return true;
        }
        if (fds[0].revents == 0) continue;
        char chunk[65536];
        const ssize_t n = ::read(fd_, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            throw std::runtime_error(std::string("reading stdin failed: ") + std::strerror(errno));
        }
        if (n == 0) return false;
        if (skipping_) {
            // Drop what belongs to the oversized line, keep what follows its end.
            const char* end = static_cast<const char*>(std::memchr(chunk, '\n', static_cast<size_t>(n)));
            if (!end) return true;
            skipping_ = false;
            const char* rest = end + 1;
            buffer_.assign(rest, static_cast<size_t>(chunk + n - rest));
        } else {
            buffer_.append(chunk, static_cast<size_t>(n));
        }
        return true;
    }
}

LineReader::Line LineReader::next() {
    for (;;) {
        if (woken_) return {Line::Kind::woken, ""};
        const size_t end = skipping_ ? std::string::npos : buffer_.find('\n');
        if (end != std::string::npos) {
            std::string text = buffer_.substr(0, end);
            buffer_.erase(0, end + 1);
            if (!text.empty() && text.back() == '\r') text.pop_back();
            if (text.size() > max_line_bytes_) return {Line::Kind::oversized, ""};
            if (text.find_first_not_of(" \t") == std::string::npos) continue;
            return {Line::Kind::message, std::move(text)};
        }
        if (!skipping_ && buffer_.size() > max_line_bytes_) {
            skipping_ = true;
            buffer_.clear();
            buffer_.shrink_to_fit();
            return {Line::Kind::oversized, ""};
        }
        if (!fill()) {
            // A last line without its newline is still a message.
            if (skipping_ || buffer_.find_first_not_of(" \t\r") == std::string::npos) return {Line::Kind::end_of_input, ""};
            std::string text = std::move(buffer_);
            buffer_.clear();
            return {Line::Kind::message, std::move(text)};
        }
    }
}

bool MessageWriter::write(const nlohmann::json& message) {
    std::string line = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line += '\n';
    std::lock_guard<std::mutex> lock(mutex_);
    if (broken_) return false;
    size_t written = 0;
    while (written < line.size()) {
        const ssize_t n = ::write(fd_, line.data() + written, line.size() - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            broken_ = true;
            return false;
        }
        written += static_cast<size_t>(n);
    }
    return true;
}

bool MessageWriter::broken() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return broken_;
}

namespace {

struct TooDeep {};

}  // namespace

nlohmann::json parse_message(const std::string& text, std::string& error, int max_depth) {
    // nlohmann's parser keeps its own stack; the callback sees every value's depth as it starts,
    // so a document nested too deep is given up at the first level too many.
    auto limit = [max_depth](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
        if (depth >= max_depth && (event == nlohmann::json::parse_event_t::object_start ||
                                   event == nlohmann::json::parse_event_t::array_start))
            throw TooDeep{};
        return true;
    };
    try {
        return nlohmann::json::parse(text, limit);
    } catch (const TooDeep&) {
        error = "JSON nested deeper than " + std::to_string(max_depth) + " levels";
    } catch (const nlohmann::json::exception& e) {
        error = e.what();
    }
    return nlohmann::json(nlohmann::json::value_t::discarded);
}

}  // namespace mcpmtls::client
