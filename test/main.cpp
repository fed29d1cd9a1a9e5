// Catch2's main, with the product's log quiet: tests read the servers' logs from their files.
// A listener prints one line per finished test case as the run goes (the suite takes minutes,
// which used to pass in silence), and names the slowest at the end; Catch's own summary, which
// `make test` turns into its last line "N passed, M failed", is unchanged.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <spdlog/spdlog.h>
#include <string>
#include <utility>
#include <vector>

namespace {

class ProgressListener : public Catch::TestEventListenerBase {
public:
    using TestEventListenerBase::TestEventListenerBase;

    void testRunStarting(const Catch::TestRunInfo& info) override {
        TestEventListenerBase::testRunStarting(info);
        total_ = Catch::filterTests(Catch::getAllTestCasesSorted(*m_config), m_config->testSpec(), *m_config).size();
    }

    void testCaseStarting(const Catch::TestCaseInfo& info) override {
        TestEventListenerBase::testCaseStarting(info);
        started_ = std::chrono::steady_clock::now();
    }

    void testCaseEnded(const Catch::TestCaseStats& stats) override {
        TestEventListenerBase::testCaseEnded(stats);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
        const bool ok = stats.totals.assertions.failed == 0;
        durations_.emplace_back(seconds, stats.testInfo.name);
        std::printf("[%zu/%zu] %s %6.1fs  %s\n", ++done_, total_, ok ? "ok  " : "FAIL", seconds, stats.testInfo.name.c_str());
        std::fflush(stdout);
    }

    void testRunEnded(const Catch::TestRunStats& stats) override {
        TestEventListenerBase::testRunEnded(stats);
        std::sort(durations_.begin(), durations_.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
        if (durations_.size() > 1) {
            std::printf("slowest test cases:\n");
            for (size_t i = 0; i < std::min<size_t>(8, durations_.size()); ++i)
                std::printf("  %6.1fs  %s\n", durations_[i].first, durations_[i].second.c_str());
        }
        std::fflush(stdout);
    }

private:
    size_t total_ = 0, done_ = 0;
    std::chrono::steady_clock::time_point started_;
    std::vector<std::pair<double, std::string>> durations_;
};

}  // namespace

CATCH_REGISTER_LISTENER(ProgressListener)

int main(int argc, char* argv[]) {
    spdlog::set_level(spdlog::level::off);
    // Like the binaries: a peer that closes a connection is an error to handle, not a signal.
    std::signal(SIGPIPE, SIG_IGN);
    return Catch::Session().run(argc, argv);
}
