#pragma once
// Precompiled once per build, not included by any source: the Makefile passes it with -include
// to every file of the layers that use it (PCH in the Makefile). nlohmann/json and spdlog are
// read by nearly every file and cost most of a small file's compile time; parsed once, they cost
// a load. A file must still include what it uses: the build without PCH (clang, fuzz) checks it.
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
