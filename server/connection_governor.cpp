#include "server/connection_governor.hpp"

#include "common/log.hpp"
#include "server/keep_alive_wait.hpp"
#include "tls/credentials.hpp"
#include "tls/server_context.hpp"

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <map>
#include <vector>

namespace mcpmtls::server {

struct ConnectionGovernor::Connection {
    ConnectionGovernor* governor = nullptr;
    int fd = -1;
    std::string peer;    // address:port, kept: the socket may be gone when the close is logged
    std::string source;  // address only, for the per-source handshake cap
    // Guarded by the governor's mutex.
    bool handshaking = true;
    bool busy = false;
    bool request_cut = false;  // the last request's body never came whole
    bool refused_in_handshake = false;  // we sent a fatal alert before the handshake completed
    size_t served = 0;  // requests answered: a new connection first gets its turn
    Closing closing = Closing::none;
    std::string client;     // the verified identity, once the handshake is done
    std::string last_alert; // the last TLS alert after the handshake, e.g. "sent decode error"
    std::optional<tls::HandshakeFailure> failure;  // the first reason the TLS context gave for a failing handshake
    Clock::time_point opened;
    Clock::time_point since;  // handshake start while handshaking, else idle since
    // Read by the BIO callback on the connection's worker thread, reset by the same thread
    // from the request hooks; atomics only so that make_room's thread may look too.
    std::atomic<size_t> received{0};
    std::atomic<size_t> allowed{SIZE_MAX};
    std::atomic<bool> cut_off{false};  // over budget once: the stream has ended for good
    std::atomic<bool> over_budget{false};
    std::atomic<int> first_byte{-1};  // of the client's, to tell TLS from anything else
    std::atomic<bool> ended{false};   // the client's end of the stream was read (or a reset)
};

namespace {

// TLS records add up to a few dozen bytes per 16 KiB of payload; the budgets count raw bytes.
size_t with_record_overhead(size_t payload) { return payload + payload / 256 + 4096; }

long count_reads(BIO* bio, int operation, const char* data, size_t, int, long, int ret, size_t* processed) {
    if (operation != (BIO_CB_READ | BIO_CB_RETURN)) return ret;
    auto* connection = reinterpret_cast<ConnectionGovernor::Connection*>(BIO_get_callback_arg(bio));
    if (!connection) return ret;
    if (ret <= 0 || !processed || *processed == 0) {
        if (ret <= 0 && !BIO_should_retry(bio)) connection->ended.store(true, std::memory_order_relaxed);
        return ret;
    }
    if (connection->first_byte.load(std::memory_order_relaxed) < 0 && data)
        connection->first_byte.store(static_cast<unsigned char>(data[0]), std::memory_order_relaxed);
    const size_t total = connection->received.fetch_add(*processed, std::memory_order_relaxed) + *processed;
    const bool over = total > connection->allowed.load(std::memory_order_relaxed);
    if (connection->cut_off.load(std::memory_order_relaxed) || over) {
        // Reported as the end of the stream, for good (bytes dropped from the middle of a TLS
        // record must never be followed by more): the server stops reading and closes, with no
        // TLS alert that a client would take for a refusal of its certificate.
        if (over) connection->over_budget.store(true, std::memory_order_relaxed);
        connection->cut_off.store(true, std::memory_order_relaxed);
        *processed = 0;
        return 0;
    }
    return ret;
}

// The address part of "1.2.3.4:5" / "[::1]:5".
std::string source_of(const std::string& peer) {
    const auto colon = peer.rfind(':');
    return colon == std::string::npos ? peer : peer.substr(0, colon);
}

const char* closing_reason(ConnectionGovernor::Closing why) {
    using Closing = ConnectionGovernor::Closing;
    switch (why) {
        case Closing::handshake_timeout: return "the TLS handshake did not finish within --handshake-timeout";
        case Closing::handshakes_per_source: return "too many silent handshakes from this address (--max-handshakes-per-source)";
        case Closing::make_room_handshake: return "unfinished handshake closed to make room for a waiting connection";
        case Closing::make_room_idle: return "idle keep-alive connection closed to make room for a waiting connection";
        case Closing::cut_after_answer: return "closed after its answer (the request was refused before its body)";
        case Closing::server_stopping: return "the server is stopping";
        case Closing::none: break;
    }
    return "";
}

// Bytes the client sent that nobody has read yet (a next request, a ClientHello).
bool bytes_waiting(const ConnectionGovernor::Connection& connection) {
    int unread = 0;
    return ioctl(connection.fd, FIONREAD, &unread) == 0 && unread > 0;
}

// How long a connection whose handshake we refused may keep its worker after the alert.
constexpr std::chrono::milliseconds kRefusedHandshakeLinger{250};

// Before a connection whose client is still sending (a body refused unread) is closed: tell the
// client we are done (FIN, after the answer and close_notify already written), and read and
// drop what it still sends for a moment. Closing a socket with unread bytes makes the kernel
// send a reset, which can destroy the answer before the client reads it; nginx's lingering close
// does the same.
void linger(int fd, std::chrono::milliseconds at_most) {
    ::shutdown(fd, SHUT_WR);
    const auto deadline = std::chrono::steady_clock::now() + at_most;
    char sink[16384];
    size_t drained = 0;
    while (drained < 8 * 1024 * 1024) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd p{fd, POLLIN, 0};
        // ppoll, not poll: never taken for the keep-alive wait (server/keep_alive_wait.cpp).
        const timespec wait{static_cast<time_t>(left.count() / 1000), static_cast<long>(left.count() % 1000) * 1000000L};
        if (left.count() <= 0 || ::ppoll(&p, 1, &wait, nullptr) <= 0) break;
        const ssize_t n = ::recv(fd, sink, sizeof sink, MSG_DONTWAIT);
        if (n <= 0) break;
        drained += static_cast<size_t>(n);
    }
}

}  // namespace

ConnectionGovernor::ConnectionGovernor(Limits limits, tls::VerdictObserver* verdicts)
    : limits_(limits), header_budget_(with_record_overhead(limits.max_header_bytes)), verdicts_(verdicts) {}

// OpenSSL calls this while freeing the SSL (before it frees the BIO, and before the HTTP server
// closes the socket): the descriptor is still ours while the entry exists, so the governor
// never shuts down a reused fd.
void ConnectionGovernor::forget(void* parent, void* ptr, void*, int, long, void*) {
    if (!ptr) return;
    auto* connection = static_cast<Connection*>(ptr);
    if (BIO* rbio = SSL_get_rbio(static_cast<SSL*>(parent)); rbio && BIO_get_callback_arg(rbio) == reinterpret_cast<char*>(connection)) {
        BIO_set_callback_ex(rbio, nullptr);
        BIO_set_callback_arg(rbio, nullptr);
    }
    ConnectionGovernor& governor = *connection->governor;
    // A refused handshake lingers too, briefly: a TLS 1.3 client has finished its side before we
    // judge its certificate and may already have sent its first request; closing on those unread
    // bytes would reset the connection and could destroy the alert that says why (the client
    // would report a dropped connection instead of a refused certificate). A real client closes
    // as soon as it reads the alert, which ends the wait.
    if (connection->closing == Closing::cut_after_answer) linger(connection->fd, std::chrono::seconds(1));
    else if (connection->refused_in_handshake) linger(connection->fd, kRefusedHandshakeLinger);
    {
        std::lock_guard<std::mutex> lock(governor.mutex_);
        governor.connections_.erase(static_cast<const SSL*>(parent));
        if (connection->handshaking) governor.report_failure_locked(*connection);
    }
    if (!connection->handshaking) governor.log_close(*connection);
    delete connection;
}

int ConnectionGovernor::ex_index() {
    static const int index = SSL_get_ex_new_index(
        0, nullptr, nullptr, nullptr,
        [](void* parent, void* ptr, CRYPTO_EX_DATA* ad, int idx, long argl, void* argp) {
            forget(parent, ptr, ad, idx, argl, argp);
        });
    return index;
}

// A body is not limited here: a Content-Length beyond --max-body is refused before the body
// (end_after_answer), and cpp-httplib bounds chunked bodies itself, so only header bytes can
// pile up in memory.
void ConnectionGovernor::set_phase(Connection& connection, bool reading_body) {
    connection.received.store(0, std::memory_order_relaxed);
    connection.allowed.store(reading_body ? SIZE_MAX : header_budget_, std::memory_order_relaxed);
}

void ConnectionGovernor::close_locked(Connection& connection, Closing why) {
    ::shutdown(connection.fd, SHUT_RDWR);
    connection.closing = why;
}

ConnectionGovernor::Connection* ConnectionGovernor::track(SSL* ssl) {
    if (auto* existing = static_cast<Connection*>(SSL_get_ex_data(ssl, ex_index()))) return existing;
    const int fd = SSL_get_fd(ssl);
    BIO* rbio = SSL_get_rbio(ssl);
    if (fd < 0 || !rbio) return nullptr;
    serving_connection(fd);  // the first sight is on the worker thread that accepts it
    auto* connection = new Connection;
    connection->governor = this;
    connection->fd = fd;
    connection->peer = tls::peer_address_of(ssl);
    connection->source = source_of(connection->peer);
    connection->opened = connection->since = Clock::now();
    if (SSL_set_ex_data(ssl, ex_index(), connection) != 1) {
        delete connection;
        return nullptr;
    }
    BIO_set_callback_arg(rbio, reinterpret_cast<char*>(connection));
    BIO_set_callback_ex(rbio, count_reads);
    std::lock_guard<std::mutex> lock(mutex_);
    connections_[ssl] = connection;
    return connection;
}

void ConnectionGovernor::handshake_started(SSL* ssl) noexcept { track(ssl); }

void ConnectionGovernor::handshake_finished(SSL* ssl) noexcept {
    Connection* connection = track(ssl);
    if (!connection) return;
    const auto identity = tls::ServerTlsContext::peer_identity(ssl);
    std::lock_guard<std::mutex> lock(mutex_);
    if (!connection->handshaking) return;
    connection->handshaking = false;
    connection->client = identity ? identity->display_name() : "";
    connection->since = Clock::now();
    set_phase(*connection, false);
}

bool ConnectionGovernor::alert(SSL* ssl, bool sent, int description) noexcept {
    auto* connection = static_cast<Connection*>(SSL_get_ex_data(ssl, ex_index()));
    if (!connection) return false;
    std::lock_guard<std::mutex> lock(mutex_);
    if (connection->handshaking) {
        connection->refused_in_handshake = connection->refused_in_handshake || sent;
        return false;
    }
    connection->last_alert = std::string(sent ? "sent " : "received ") + SSL_alert_desc_string_long(description);
    return true;
}

bool ConnectionGovernor::handshake_failed(SSL* ssl, const tls::HandshakeFailure& failure) noexcept {
    auto* connection = static_cast<Connection*>(SSL_get_ex_data(ssl, ex_index()));
    if (!connection) return false;
    std::lock_guard<std::mutex> lock(mutex_);
    if (!connection->handshaking) return false;
    if (connection->failure) return true;  // the first reason is the true one
    try {
        // OpenSSL answers a stream that ends mid-handshake with a decode_error alert of its own:
        // the reason is the client's close (told when the connection is freed), not the alert.
        if (connection->ended.load(std::memory_order_relaxed) && !failure.judged && failure.code == "tls_alert_sent") return true;
        connection->failure = failure;
    } catch (...) {
        // Only allocation can fail here: the connection is then reported by what the governor saw.
    }
    return true;
}

void ConnectionGovernor::request_started(const SSL* ssl) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = connections_.find(ssl);
    if (it == connections_.end()) return;
    it->second->busy = true;
    it->second->request_cut = false;
    set_phase(*it->second, true);
}

void ConnectionGovernor::request_finished(const SSL* ssl, bool complete) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = connections_.find(ssl);
    if (it == connections_.end()) return;
    Connection& connection = *it->second;
    connection.busy = false;
    connection.request_cut = !complete;
    if (complete) ++connection.served;
    connection.since = Clock::now();
    set_phase(connection, false);
}

void ConnectionGovernor::end_after_answer(const SSL* ssl) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = connections_.find(ssl);
    if (it == connections_.end()) return;
    it->second->closing = Closing::cut_after_answer;
    it->second->cut_off.store(true, std::memory_order_relaxed);
}

size_t ConnectionGovernor::make_room(size_t wanted) {
    if (wanted == 0) return 0;
    const auto now = Clock::now();
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<Connection*> handshakes, idle;
    for (auto& [ssl, connection] : connections_) {
        if (connection->closing != Closing::none || connection->busy) continue;
        if (connection->handshaking) {
            if (now - connection->since >= kHandshakeBeforeClose) handshakes.push_back(connection);
        } else if (now - connection->since >= (connection->served ? kIdleBeforeClose : kFirstRequestGrace) &&
                   !bytes_waiting(*connection)) {
            idle.push_back(connection);
        }
    }
    auto oldest_first = [](const Connection* a, const Connection* b) { return a->since < b->since; };
    size_t closed = 0;
    for (auto* group : {&handshakes, &idle}) {
        const size_t count = std::min(wanted - closed, group->size());
        std::partial_sort(group->begin(), group->begin() + static_cast<std::ptrdiff_t>(count), group->end(), oldest_first);
        for (size_t i = 0; i < count; ++i)
            close_locked(*(*group)[i], group == &handshakes ? Closing::make_room_handshake : Closing::make_room_idle);
        if (group == &idle) closed_to_make_room_ += count;
        closed += count;
    }
    return closed;
}

size_t ConnectionGovernor::close_idle() {
    size_t closed = 0;
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [ssl, connection] : connections_)
        if (connection->closing == Closing::none && !connection->busy) {
            close_locked(*connection, Closing::server_stopping);
            ++closed;
        }
    return closed;
}

size_t ConnectionGovernor::close_overdue_handshakes() {
    const auto now = Clock::now();
    const auto deadline = now - limits_.handshake_timeout;
    size_t closed = 0;
    std::lock_guard<std::mutex> lock(mutex_);
    // One address may hold only so many silent handshakes: not a byte of a ClientHello received
    // or waiting, kSilentHandshakeGrace after the worker took the connection. The grace keeps a
    // burst of real clients from one address (a NAT, a fleet restarting, a thousand threads on a
    // busy machine) from counting as silent before their ClientHellos arrive.
    std::map<std::string, std::vector<Connection*>> silent_by_source;
    for (auto& [ssl, connection] : connections_) {
        if (!connection->handshaking || connection->closing != Closing::none) continue;
        if (connection->since < deadline) {
            close_locked(*connection, Closing::handshake_timeout);
            ++closed;
        } else if (now - connection->since >= kSilentHandshakeGrace && connection->received.load(std::memory_order_relaxed) == 0 &&
                   !bytes_waiting(*connection)) {
            silent_by_source[connection->source].push_back(connection);
        }
    }
    for (auto& [source, silent] : silent_by_source) {
        if (silent.size() <= limits_.max_handshakes_per_source) continue;
        const size_t excess = silent.size() - limits_.max_handshakes_per_source;
        std::partial_sort(silent.begin(), silent.begin() + static_cast<std::ptrdiff_t>(excess), silent.end(),
                          [](const Connection* a, const Connection* b) { return a->since < b->since; });
        for (size_t i = 0; i < excess; ++i) close_locked(*silent[i], Closing::handshakes_per_source);
        closed += excess;
    }
    summarize_failures_locked(now, false);
    return closed;
}

namespace {

// Why an unauthenticated connection ended, from what the governor saw of it and what the TLS
// context said. What the governor did itself comes first (its close makes OpenSSL see an end of
// stream, and answer it with an alert), then what was not TLS at all (OpenSSL's words for those
// bytes vary, or it has none), then the TLS context's reason.
tls::HandshakeFailure failure_of(const ConnectionGovernor::Connection& connection) {
    using Closing = ConnectionGovernor::Closing;
    const bool silent = connection.received.load(std::memory_order_relaxed) == 0;
    const int first = connection.first_byte.load(std::memory_order_relaxed);
    constexpr int kTlsHandshakeRecord = 0x16;
    if (first >= 0 && first != kTlsHandshakeRecord)
        return {"not_tls",
                std::isupper(first) ? "not TLS: the client spoke plain text (HTTP?) to the TLS port"
                                    : "not TLS: the client's first bytes are no TLS handshake",
                nlohmann::json::object(), false};
    switch (connection.closing) {
        case Closing::handshake_timeout:
            if (silent) return {"silent_timeout", "the client sent nothing within --handshake-timeout", nlohmann::json::object(), false};
            return {"handshake_timeout", closing_reason(connection.closing), nlohmann::json::object(), false};
        case Closing::handshakes_per_source:
            return {"silent_per_source", closing_reason(connection.closing), nlohmann::json::object(), false};
        case Closing::make_room_handshake:
            return {"closed_for_room", closing_reason(connection.closing), nlohmann::json::object(), false};
        case Closing::server_stopping:
            return {"server_stopping", "the server stopped before the handshake finished", nlohmann::json::object(), false};
        default: break;
    }
    if (connection.failure) return *connection.failure;
    if (silent) return {"peer_closed", "the client closed the connection before sending anything", nlohmann::json::object(), false};
    return {"peer_closed_in_handshake", "the client closed the connection during the handshake", nlohmann::json::object(), false};
}

}  // namespace

void ConnectionGovernor::report_failure_locked(const Connection& connection) {
    try {
        tls::HandshakeFailure failure = failure_of(connection);
        if (!failure.judged && verdicts_) verdicts_->handshake_judged(false, failure.code);
        nlohmann::json fields = failure.fields.is_object() ? failure.fields : nlohmann::json::object();
        fields["peer"] = connection.peer;
        fields["reason"] = failure.reason;
        fields["code"] = failure.code;
        log_event(spdlog::level::debug, "handshake_failed", fields);
        // A verifier's refusal is summed up by its class (its words may name the client); every
        // other reason by its words, which come from a fixed set.
        const std::string key = failure.judged ? "verdict:" + failure.code : failure.code + ":" + failure.reason;
        auto [it, first] = failures_.try_emplace(key);
        Tally& tally = it->second;
        if (!first) {
            ++tally.count;
            return;
        }
        // The first of its reason since a quiet interval: logged now, with the details of this
        // connection, so that one refused client is seen at once.
        tally.since = Clock::now();
        tally.warning = failure.code != "peer_closed" && failure.code != "server_stopping";
        fields["count"] = 1;
        log_event(tally.warning ? spdlog::level::warn : spdlog::level::info, "handshakes_failed", fields);
        failure.fields = nlohmann::json::object();
        tally.first = std::move(failure);
    } catch (...) {
        // Only allocation can fail here; a lost log line is better than a thrown destructor.
    }
}

void ConnectionGovernor::summarize_failures_locked(Clock::time_point now, bool all) {
    for (auto it = failures_.begin(); it != failures_.end();) {
        Tally& tally = it->second;
        if (!all && now - tally.since < kFailureSummaryInterval) {
            ++it;
            continue;
        }
        if (tally.count == 0) {  // quiet for an interval: the next one is logged at once again
            it = failures_.erase(it);
            continue;
        }
        nlohmann::json fields = {{"reason", tally.first.reason},
                                 {"count", tally.count},
                                 {"in_last_seconds", std::llround(std::chrono::duration<double>(now - tally.since).count())}};
        if (tally.first.judged) fields["verdict"] = "rejected";
        fields["code"] = tally.first.code;
        log_event(tally.warning ? spdlog::level::warn : spdlog::level::info, "handshakes_failed", fields);
        tally.count = 0;
        tally.since = now;
        ++it;
    }
}

void ConnectionGovernor::flush_failure_summaries() {
    std::lock_guard<std::mutex> lock(mutex_);
    summarize_failures_locked(Clock::now(), true);
}

void ConnectionGovernor::log_close(const Connection& connection) {
    std::string why = closing_reason(connection.closing);
    auto level = spdlog::level::info;
    if (connection.closing == Closing::none) {
        if (connection.over_budget.load(std::memory_order_relaxed)) {
            why = "request headers over the 64 KiB budget";
            level = spdlog::level::warn;
        } else if (connection.busy || connection.request_cut) {
            why = "the connection ended in the middle of a request";
            level = spdlog::level::warn;
        } else if (limits_.keep_alive_timeout.count() > 0 && Clock::now() - connection.since >= limits_.keep_alive_timeout) {
            why = "idle for the keep-alive timeout";
            level = spdlog::level::debug;
        } else {
            why = connection.served ? "the client closed the connection" : "the client closed the connection before a request";
            level = spdlog::level::debug;
        }
    }
    nlohmann::json fields = {{"peer", connection.peer},
                             {"client", connection.client},
                             {"requests", connection.served},
                             {"seconds", std::chrono::duration<double>(Clock::now() - connection.opened).count()},
                             {"reason", why}};
    if (!connection.last_alert.empty()) fields["tls_alert"] = connection.last_alert;
    log_event(level, "connection_closed", fields);
}

size_t ConnectionGovernor::closed_to_make_room() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return closed_to_make_room_;
}

ConnectionGovernor::Census ConnectionGovernor::census() const {
    Census census;
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [ssl, connection] : connections_) {
        if (connection->handshaking) ++census.handshaking;
        else if (connection->busy) ++census.busy;
        else ++census.idle;
    }
    return census;
}

}  // namespace mcpmtls::server
