#include "mcp/event_stream.hpp"

#include <algorithm>

namespace mcpmtls::mcp {

using Clock = std::chrono::steady_clock;

std::optional<EventId> EventId::parse(const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 >= text.size() || text.size() > 64) return std::nullopt;
    EventId id;
    id.stream = text.substr(0, colon);
    for (size_t i = colon + 1; i < text.size(); ++i) {
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
        if (id.sequence > (UINT64_MAX - 9) / 10) return std::nullopt;
        id.sequence = id.sequence * 10 + static_cast<uint64_t>(text[i] - '0');
    }
    return id;
}

std::string EventId::text() const { return stream + ":" + std::to_string(sequence); }

std::string sse_message_event(const std::string& message, const std::string& id) {
    std::string event = "event: message\n";
    if (!id.empty()) event += "id: " + id + "\n";
    return event + "data: " + message + "\n\n";
}

EventStream::EventStream(std::string id, size_t replay_limit) : id_(std::move(id)), replay_limit_(std::max<size_t>(1, replay_limit)) {}

bool EventStream::push(const std::string& message) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (finished_) return false;
        events_.emplace_back(next_sequence_++, message);
        if (events_.size() > replay_limit_) events_.pop_front();
    }
    changed_.notify_all();
    return true;
}

void EventStream::finish() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        finished_ = true;
    }
    changed_.notify_all();
}

void EventStream::end_responses() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        ++responses_ended_;
    }
    changed_.notify_all();
}

bool EventStream::finished() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return finished_;
}

uint64_t EventStream::last_sequence() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return next_sequence_ - 1;
}

EventStream::Reader EventStream::attach() {
    Reader reader;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        reader.generation = ++generation_;
        reader.responses_ended = responses_ended_;
    }
    changed_.notify_all();  // wakes the reader this one replaces
    return reader;
}

EventStream::Batch EventStream::wait(const Reader& reader, uint64_t cursor, std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> lock(mutex_);
    auto news = [&] {
        return next_sequence_ - 1 > cursor || finished_ || responses_ended_ != reader.responses_ended ||
               generation_ != reader.generation;
    };
    changed_.wait_for(lock, timeout, news);
    Batch batch;
    batch.superseded = generation_ != reader.generation;
    batch.end_response = responses_ended_ != reader.responses_ended;
    if (!events_.empty() && events_.front().first > cursor + 1) batch.lost_events = true;
    for (const auto& event : events_)
        if (event.first > cursor) batch.events.push_back(event);
    batch.finished = finished_;
    return batch;
}

StreamReader::StreamReader(std::shared_ptr<EventStream> stream, uint64_t cursor, SseSettings settings, bool prime)
    : stream_(std::move(stream)), cursor_(cursor), settings_(settings), prime_(prime), reader_(stream_->attach()),
      last_write_(Clock::now()) {}

StreamStep StreamReader::pump(BodySink& sink) {
    const std::string retry_field = "retry: " + std::to_string(settings_.retry.count()) + "\n";
    if (prime_) {
        prime_ = false;
        if (!sink.write("id: " + EventId{stream_->id(), cursor_}.text() + "\n" + retry_field + "data: \n\n")) return StreamStep::abort;
        last_write_ = Clock::now();
    }
    if (sink.client_gone()) return StreamStep::abort;
    const auto heartbeat_due = last_write_ + settings_.heartbeat;
    const auto until_heartbeat = std::chrono::duration_cast<std::chrono::milliseconds>(heartbeat_due - Clock::now());
    const auto timeout = std::max(std::chrono::milliseconds(0), std::min(settings_.max_wait, until_heartbeat));
    EventStream::Batch batch = stream_->wait(reader_, cursor_, timeout);
    if (batch.superseded) return StreamStep::done;
    std::string out;
    for (const auto& [sequence, message] : batch.events) {
        out += sse_message_event(message, EventId{stream_->id(), sequence}.text());
        cursor_ = sequence;
    }
    // The server ends the response before the stream: the retry field tells the client when to
    // come back for the rest.
    if (batch.end_response) out += retry_field + "\n";
    if (out.empty() && Clock::now() >= heartbeat_due) out = ": keep-alive\n\n";
    if (!out.empty()) {
        if (!sink.write(out)) return StreamStep::abort;
        last_write_ = Clock::now();
    }
    if (batch.end_response || batch.finished) return StreamStep::done;
    return StreamStep::more;
}

}  // namespace mcpmtls::mcp
