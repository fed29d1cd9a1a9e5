#include "client/bench.hpp"

#include "client/wire_protocol.hpp"
#include "mcp/protocol.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

namespace mcpmtls::client {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

std::string failure_kind_name(FailureKind kind) {
    switch (kind) {
        case FailureKind::connect: return "connect";
        case FailureKind::timeout: return "timeout";
        case FailureKind::tls_server_rejected_by_us: return "tls_server_rejected";
        case FailureKind::tls_refused_by_server: return "tls_refused_by_server";
        case FailureKind::tls_other: return "tls";
        case FailureKind::protocol: return "protocol";
        case FailureKind::closed: return "connection_closed";
    }
    return "other";
}

struct WorkerResult {
    std::vector<uint32_t> latencies_us;
    std::map<std::string, size_t> errors;
    size_t handshakes = 0;
    size_t resumed = 0;
};

// Handshakes in flight at once while a run's kept-alive connections are opened.
constexpr size_t kWarmUpHandshakes = 64;

double percentile(const std::vector<uint32_t>& sorted, double p) {
    if (sorted.empty()) return 0;
    size_t index = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
    return sorted[std::min(index, sorted.size() - 1)] / 1000.0;
}

}  // namespace

std::string bench_failure_kind(int status, const std::string& content_type, const std::string& body) {
    if (status != 200) return "http_" + std::to_string(status);
    // Most answers hold no "error" at all: only those are parsed, so the load generator stays cheap.
    if (body.find("\"error\"") != std::string::npos) {
        std::string message = body;
        if (content_type.find("text/event-stream") != std::string::npos) {
            // The answer is the stream's last data line; earlier events are the call's messages.
            const auto data = body.rfind("\ndata: ");
            message = data == std::string::npos ? (body.rfind("data: ", 0) == 0 ? body.substr(6) : "") : body.substr(data + 7);
            message = message.substr(0, message.find('\n'));
        }
        const json answer = json::parse(message, nullptr, false);
        if (answer.is_discarded() || !answer.is_object()) return "protocol";
        if (answer.contains("error")) {
            const json& error = answer["error"];
            return "rpc_" + (error.is_object() && error.contains("code") ? error["code"].dump() : std::string("error"));
        }
    }
    if (body.find("\"isError\":true") != std::string::npos) return "tool_error";
    return "";
}

json BenchReport::to_json() const {
    return {{"ok", ok},
            {"failed", failed},
            {"errors", errors},
            {"handshakes", handshakes},
            {"resumed_handshakes", resumed_handshakes},
            {"clients_served", clients_served},
            {"seconds", seconds},
            {"requests_per_second", requests_per_second},
            {"latency_ms", {{"p50", p50_ms}, {"p90", p90_ms}, {"p99", p99_ms}, {"max", max_ms}, {"mean", mean_ms}}}};
}

std::string BenchReport::to_text() const {
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "requests:   %zu ok, %zu failed in %.2f s\n"
                  "throughput: %.0f requests/s\n"
                  "latency:    p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms (mean %.2f ms)\n"
                  "handshakes: %zu (%zu resumed); %zu connections served\n",
                  ok, failed, seconds, requests_per_second, p50_ms, p90_ms, p99_ms, max_ms, mean_ms, handshakes,
                  resumed_handshakes, clients_served);
    std::string text = buf;
    for (const auto& [kind, count] : errors) text += "  error " + kind + ": " + std::to_string(count) + "\n";
    return text;
}

BenchReport run_bench(const BenchOptions& options, std::shared_ptr<const tls::ClientTlsContext> tls, Timeouts timeouts) {
    // One MCP session for the whole run: every worker presents the same certificate, so the
    // server accepts the session id on any connection.
    McpSession setup(options.server.name, options.server.url, tls, timeouts);
    // The era is the bench's to choose, not server/discover's: a server that speaks both would
    // otherwise give the session run a stateless setup and no session to call in.
    if (options.stateless) {
        setup.set_protocol(VersionChoice{mcp::protocol::kModernVersion});
        setup.initialize();
    } else {
        setup.initialize_session();
    }
    log_server_verdict(options.server.name, setup.connection());
    const std::string session_id = setup.session_id();
    const std::string protocol = setup.protocol_version();
    json body_template = {{"jsonrpc", "2.0"}, {"method", "tools/call"},
                          {"params", {{"name", options.tool}, {"arguments", options.arguments}}}};
    // A failing tool in the first call is a usage problem, not load: say so before the run.
    setup.call_tool(options.tool, options.arguments);
    std::vector<std::pair<std::string, std::string>> headers = {
        {"Content-Type", "application/json"}, {"Accept", "application/json, text/event-stream"}};
    if (options.stateless) {
        // MCP 2026-07-28: everything in each request, nothing held by the server between them.
        namespace protocol = mcp::protocol;
        body_template["params"]["_meta"] = request_meta(protocol::kModernVersion, json::object());
        headers.insert(headers.end(), {{protocol::kHeaderProtocolVersion, protocol::kModernVersion},
                                       {protocol::kHeaderMethod, "tools/call"},
                                       {protocol::kHeaderName, options.tool}});
    } else {
        if (!protocol.empty()) headers.emplace_back("MCP-Protocol-Version", protocol);
        if (!session_id.empty()) headers.emplace_back("Mcp-Session-Id", session_id);
    }
    // Each request its own id, as a client must within a session: with one id for all, a 2025
    // server refuses every call whose id is still running on another connection.
    const std::string body_tail = "," + body_template.dump().substr(1);

    std::atomic<size_t> issued{0};
    std::atomic<size_t> done{0};
    std::atomic<size_t> failed{0};
    std::atomic<bool> stop{false};
    const size_t total = options.requests;
    // Every connection exists before the clock starts: started one by one while the first ones
    // already load the machine, the last of a thousand would begin seconds late (or never, on
    // two busy cores), and the run would measure fewer clients than asked for. Kept-alive
    // connections are opened first, kWarmUpHandshakes at a time, as a fleet of clients on other
    // machines would: a thousand threads on the server's own cores all starting a handshake at
    // once would measure this machine's scheduler, not the server.
    Clock::time_point start, deadline;
    std::mutex starting;
    std::condition_variable started;
    bool running = false;
    size_t ready = 0, handshaking = 0;

    std::vector<WorkerResult> results(options.connections);
    std::vector<std::thread> workers;
    for (size_t w = 0; w < options.connections; ++w) {
        workers.emplace_back([&, w] {
            WorkerResult& result = results[w];
            HttpConnection connection(options.server.url, tls, timeouts);
            connection.set_session_reuse(options.tls_resumption);
            const bool warm_up = !options.new_connection_per_request;
            std::unique_lock<std::mutex> lock(starting);
            if (warm_up) {
                started.wait(lock, [&] { return handshaking < kWarmUpHandshakes; });
                ++handshaking;
                lock.unlock();
                try {
                    connection.connect();
                } catch (const ConnectionError&) {
                    // the run's first request connects again, and counts a failure if it cannot
                }
                lock.lock();
                --handshaking;
            }
            ++ready;
            started.notify_all();
            started.wait(lock, [&] { return running; });
            lock.unlock();
            for (;;) {
                if (stop.load(std::memory_order_relaxed)) break;
                size_t n = issued.fetch_add(1, std::memory_order_relaxed);
                if (total && n >= total) break;
                auto scheduled = Clock::now();
                if (options.rate > 0) {
                    scheduled = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(n / options.rate));
                    std::this_thread::sleep_until(scheduled);
                }
                if (!total && Clock::now() >= deadline) break;
                try {
                    HttpResponse response = connection.request("POST", headers, "{\"id\":" + std::to_string(n + 1) + body_tail);
                    const std::string failure = bench_failure_kind(response.status, response.header("Content-Type"), response.body);
                    if (!failure.empty()) {
                        ++result.errors[failure];
                        failed.fetch_add(1, std::memory_order_relaxed);
                    } else {
                        // Latency from the scheduled start: an open loop must not hide queueing.
                        auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - scheduled).count();
                        result.latencies_us.push_back(static_cast<uint32_t>(std::min<long long>(us, UINT32_MAX)));
                    }
                } catch (const ConnectionError& e) {
                    ++result.errors[failure_kind_name(e.kind())];
                    failed.fetch_add(1, std::memory_order_relaxed);
                    connection.close();
                }
                if (options.new_connection_per_request && connection.connected()) connection.close();
                done.fetch_add(1, std::memory_order_relaxed);
                if (options.think.count() > 0) {
                    // A sparse client: idle on its connection, but not past the end of the run.
                    const auto wake = std::min<Clock::time_point>(Clock::now() + options.think, total ? Clock::time_point::max() : deadline);
                    while (Clock::now() < wake && !stop.load(std::memory_order_relaxed))
                        std::this_thread::sleep_for(std::min<Clock::duration>(wake - Clock::now(), std::chrono::milliseconds(50)));
                }
            }
            result.handshakes = connection.handshakes();
            result.resumed = connection.resumed_handshakes();
        });
    }
    {
        std::unique_lock<std::mutex> lock(starting);
        started.wait(lock, [&] { return ready == options.connections; });
        start = Clock::now();
        deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.duration_seconds));
        running = true;
    }
    started.notify_all();
    std::thread progress_thread([&] {
        size_t last = 0;
        auto last_time = Clock::now();
        while (!stop.load()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(250));
            auto now = Clock::now();
            if (now - last_time < std::chrono::seconds(1)) {
                if (!total && now >= deadline + std::chrono::seconds(1)) stop = true;  // stragglers
                continue;
            }
            size_t d = done.load();
            if (options.progress) {
                double elapsed = std::chrono::duration<double>(now - start).count();
                double interval = std::chrono::duration<double>(now - last_time).count();
                std::fprintf(stderr, "\r[%5.1fs] %zu requests, %zu failed, %.0f req/s   ", elapsed, d, failed.load(),
                             static_cast<double>(d - last) / interval);
                std::fflush(stderr);
            }
            last = d;
            last_time = now;
        }
    });
    for (auto& t : workers) t.join();
    const auto end = Clock::now();
    stop = true;
    progress_thread.join();
    if (options.progress) std::fprintf(stderr, "\n");

    BenchReport report;
    std::vector<uint32_t> all;
    for (auto& r : results) {
        all.insert(all.end(), r.latencies_us.begin(), r.latencies_us.end());
        for (const auto& [kind, count] : r.errors) report.errors[kind] += count;
        report.handshakes += r.handshakes;
        report.resumed_handshakes += r.resumed;
        if (!r.latencies_us.empty()) ++report.clients_served;
    }
    std::sort(all.begin(), all.end());
    report.ok = all.size();
    report.failed = failed.load();
    report.seconds = std::chrono::duration<double>(end - start).count();
    report.requests_per_second = report.seconds > 0 ? static_cast<double>(report.ok) / report.seconds : 0;
    report.p50_ms = percentile(all, 0.50);
    report.p90_ms = percentile(all, 0.90);
    report.p99_ms = percentile(all, 0.99);
    report.max_ms = all.empty() ? 0 : all.back() / 1000.0;
    double sum = 0;
    for (auto v : all) sum += v;
    report.mean_ms = all.empty() ? 0 : sum / static_cast<double>(all.size()) / 1000.0;
    return report;
}

}  // namespace mcpmtls::client
