#include "pki/ca/issuance_log.hpp"

#include "common/error.hpp"
#include "common/files.hpp"
#include "common/strings.hpp"
#include "pki/ca/inventory.hpp"

#include <botan/hash.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <optional>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace mcpmtls::pki {

const char* const kFirstPrev = "0000000000000000000000000000000000000000000000000000000000000000";

namespace {

using ordered_json = nlohmann::ordered_json;

std::string system_error(const std::string& what, const std::string& path) {
    return "cannot " + what + " " + path + ": " + std::strerror(errno);
}

// The last line of the log (without its newline) and its seq, read from the end: the log only
// grows, and an append needs no more than its tail.
struct LogTail {
    long seq = 0;
    std::string prev = kFirstPrev;
};

LogTail read_tail(int fd, const std::string& path) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw OperationError(system_error("stat", path));
    if (st.st_size == 0) return {};
    std::string tail;
    off_t end = st.st_size;
    // Grow the window backwards until it holds a whole last line.
    for (off_t window = 4096;; window *= 2) {
        const off_t start = end > window ? end - window : 0;
        tail.assign(static_cast<size_t>(end - start), '\0');
        ssize_t got = ::pread(fd, tail.data(), tail.size(), start);
        if (got != static_cast<ssize_t>(tail.size())) throw OperationError(system_error("read", path));
        if (tail.back() != '\n')
            throw OperationError(path + " ends in a torn line (no newline): run pki log verify; nothing is appended to a log that does not verify");
        const auto before = tail.find_last_of('\n', tail.size() - 2);
        if (before != std::string::npos || start == 0) {
            const std::string line = tail.substr(before == std::string::npos ? 0 : before + 1,
                                                 tail.size() - 1 - (before == std::string::npos ? 0 : before + 1));
            LogTail result;
            try {
                result.seq = nlohmann::json::parse(line).at("seq").get<long>();
            } catch (const std::exception&) {
                throw OperationError(path + ": its last line is not a log line: run pki log verify; nothing is appended to a log that does not verify");
            }
            result.prev = issuance_line_hash(line);
            return result;
        }
    }
}

std::string event_line(const IssuanceEvent& event, long seq, const std::string& prev) {
    ordered_json line;
    line["seq"] = seq;
    line["time"] = format_rfc3339(std::chrono::system_clock::now());
    line["event"] = event.event;
    line["name"] = event.name;
    line["kind"] = event.kind;
    line["serial"] = event.serial;
    line["not_after"] = format_rfc3339(event.not_after);
    line["fingerprint_sha256"] = event.fingerprint_sha256;
    line["by"] = event.by;
    if (!event.reason.empty()) line["reason"] = event.reason;
    line["prev"] = prev;
    return line.dump();
}

bool is_issuing_event(const std::string& event) {
    return event == "issue" || event == "sign" || event == "enroll" || event == "renew" || event == "rotate";
}

}  // namespace

std::string issuance_line_hash(const std::string& line) {
    auto sha256 = Botan::HashFunction::create_or_throw("SHA-256");
    const auto digest = sha256->process(reinterpret_cast<const uint8_t*>(line.data()), line.size());
    return to_hex(digest.data(), digest.size());
}

void append_issuance_events(const std::string& log_path, const std::vector<IssuanceEvent>& events) {
    if (events.empty()) return;
    const int fd = ::open(log_path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw OperationError(system_error("open", log_path));
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    LogTail tail = read_tail(fd, log_path);
    std::string text;
    for (const auto& event : events) {
        const std::string line = event_line(event, ++tail.seq, tail.prev);
        tail.prev = issuance_line_hash(line);
        text += line + "\n";
    }
    // One write: with O_APPEND the lines land together at the end, and the lock keeps other
    // writers out while they do.
    size_t written = 0;
    while (written < text.size()) {
        const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw OperationError(system_error("append to", log_path));
        written += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0) throw OperationError(system_error("fsync", log_path));
}

IssuanceLogCheck verify_issuance_log(const CaDirectory& dir) {
    IssuanceLogCheck check;
    const std::string log_path = dir.issuance_log();
    // Under the lock when it can be taken: a writer appends to the log before it replaces
    // index.json, and a check between the two would see a line the inventory does not have yet.
    // A directory it cannot write (a read-only copy) is checked as it is.
    std::optional<FileLock> lock;
    try {
        if (file_exists(dir.inventory())) lock.emplace(dir.lock());
    } catch (const OperationError&) {
    }
    const auto inventory = Inventory::load(dir.inventory());
    auto fail = [&](const std::string& message) {
        check.ok = false;
        check.message = message;
        return check;
    };
    if (!file_exists(log_path)) {
        if (!file_exists(dir.inventory())) throw InputError("no CA in " + dir.dir() + " (no index.json, no issuance.log)");
        if (inventory.entries().empty()) {
            check.ok = true;
            check.message = "issuance.log: none yet, and index.json is empty";
            return check;
        }
        return fail("no issuance.log in " + dir.dir() + "; " + std::to_string(inventory.entries().size()) +
                    " certificates in index.json predate it");
    }
    const std::string text = read_file(log_path);

    struct Logged {
        size_t line;
        std::string serial, fingerprint, name, event;
    };
    std::vector<Logged> issued, revoked;
    std::string prev = kFirstPrev;
    size_t number = 0;
    size_t pos = 0;
    const std::string at = "issuance.log line ";
    while (pos < text.size()) {
        ++number;
        const auto newline = text.find('\n', pos);
        if (newline == std::string::npos) return fail(at + std::to_string(number) + ": torn (the file does not end with a newline)");
        const std::string line = text.substr(pos, newline - pos);
        pos = newline + 1;
        const std::string here = at + std::to_string(number) + ": ";
        nlohmann::json doc;
        try {
            doc = nlohmann::json::parse(line);
        } catch (const std::exception&) {
            return fail(here + "not valid JSON");
        }
        if (!doc.is_object()) return fail(here + "not a JSON object");
        for (const char* field : {"time", "event", "name", "kind", "serial", "not_after", "fingerprint_sha256", "by", "prev"})
            if (!doc.contains(field) || !doc.at(field).is_string())
                return fail(here + "field \"" + field + "\" is missing or not a string");
        if (!doc.contains("seq") || !doc.at("seq").is_number_integer()) return fail(here + "field \"seq\" is missing or not a number");
        const long seq = doc.at("seq").get<long>();
        if (seq != static_cast<long>(number))
            return fail(here + "seq is " + std::to_string(seq) + ", expected " + std::to_string(number) +
                        " (a line was removed, added or moved)");
        const std::string line_prev = doc.at("prev").get<std::string>();
        if (line_prev != prev)
            return fail(number == 1 ? here + "prev is not 64 zeros, as the first line's must be"
                                    : here + "prev does not match the SHA-256 of line " + std::to_string(number - 1) +
                                          " (line " + std::to_string(number - 1) + " was changed)");
        prev = issuance_line_hash(line);
        const std::string event = doc.at("event").get<std::string>();
        Logged logged{number, doc.at("serial").get<std::string>(), doc.at("fingerprint_sha256").get<std::string>(),
                      doc.at("name").get<std::string>(), event};
        if (is_issuing_event(event)) issued.push_back(logged);
        else if (event == "revoke") revoked.push_back(logged);
        else return fail(here + "unknown event \"" + event + "\"");
    }
    check.lines = number;

    // The cross-check, in log order first (naming a line), then in inventory order.
    std::map<std::string, const InventoryEntry*> by_serial;
    for (const auto& entry : inventory.entries()) by_serial[entry.serial] = &entry;
    std::set<std::string> issued_serials, revoked_serials;
    for (const auto& logged : issued) {
        const std::string here = at + std::to_string(logged.line) + ": ";
        if (!issued_serials.insert(logged.serial).second) return fail(here + "serial " + logged.serial + " was issued before");
        auto found = by_serial.find(logged.serial);
        if (found == by_serial.end()) return fail(here + "serial " + logged.serial + " ('" + logged.name + "') is not in index.json");
        if (found->second->fingerprint_sha256 != logged.fingerprint)
            return fail(here + "serial " + logged.serial + " has another fingerprint in index.json");
    }
    for (const auto& logged : revoked) {
        const std::string here = at + std::to_string(logged.line) + ": ";
        auto found = by_serial.find(logged.serial);
        if (found == by_serial.end() || !issued_serials.count(logged.serial))
            return fail(here + "revokes serial " + logged.serial + ", which was never issued here");
        if (!found->second->is_revoked()) return fail(here + "revokes serial " + logged.serial + ", which index.json says is " + found->second->status);
        revoked_serials.insert(logged.serial);
    }
    for (const auto& entry : inventory.entries()) {
        const std::string which = "index.json: '" + entry.name + "' (serial " + entry.serial + ")";
        if (!issued_serials.count(entry.serial)) return fail(which + " has no line in issuance.log");
        if (entry.is_revoked() && !revoked_serials.count(entry.serial)) return fail(which + " is revoked, but issuance.log has no revoke line for it");
    }
    check.ok = true;
    check.message = "issuance.log: " + std::to_string(check.lines) + " lines, chain intact, index.json agrees";
    return check;
}

}  // namespace mcpmtls::pki
