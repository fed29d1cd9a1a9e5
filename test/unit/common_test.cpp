#include "common/options.hpp"
#include "common/error.hpp"
#include "common/files.hpp"
#include "common/strings.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

using namespace mcpmtls;

TEST_CASE("durations accept s, m, h, d and w units and bare days", "[unit]") {
    CHECK(parse_duration("45s").count() == 45);
    CHECK(parse_duration("90m").count() == 90 * 60);
    CHECK(parse_duration("12h").count() == 12 * 3600);
    CHECK(parse_duration("30d").count() == 30 * 86400);
    CHECK(parse_duration("2w").count() == 14 * 86400);
    CHECK(parse_duration("7").count() == 7 * 86400);
    CHECK_THROWS_AS(parse_duration("30x"), InputError);
    CHECK_THROWS_AS(parse_duration("d"), InputError);
    CHECK_THROWS_AS(parse_duration(""), InputError);
}

TEST_CASE("RFC 3339 times round-trip and honour offsets", "[unit]") {
    auto t = parse_rfc3339("2025-01-31T12:00:00Z");
    CHECK(format_rfc3339(t) == "2025-01-31T12:00:00Z");
    CHECK(parse_rfc3339("2025-01-31T14:00:00+02:00") == t);
    CHECK(parse_rfc3339("2025-01-31T12:00:00.123Z") == t);
    CHECK_THROWS_AS(parse_rfc3339("2025-01-31"), InputError);
    CHECK_THROWS_AS(parse_rfc3339("2025-13-31T12:00:00Z"), InputError);
    CHECK_THROWS_AS(parse_rfc3339("2025-01-31T12:00:00"), InputError);
}

TEST_CASE("the argument parser rejects unknown flags and missing values with one clear line", "[unit]") {
    ArgSpec spec = ArgSpec("tool")
                       .add(Option::text("dir", "DIR", "d"))
                       .add(Option::flag("force", "f"))
                       .add(Option::list("dns", "D", "x"))
                       .positional("NAME");
    auto args = spec.parse({"--dir", "x", "--dns=a", "--dns", "b", "--force", "name"});
    CHECK(args.text("dir") == "x");
    CHECK(args.list("dns") == std::vector<std::string>{"a", "b"});
    CHECK(args.flag("force"));
    CHECK(args.positionals() == std::vector<std::string>{"name"});
    CHECK_THROWS_WITH(spec.parse({"--bogus", "n"}), Catch::Contains("unknown flag --bogus"));
    CHECK_THROWS_WITH(spec.parse({"n", "--dir"}), Catch::Contains("--dir needs a value"));
    CHECK_THROWS_WITH(spec.parse({"--dir", "a", "--dir", "b", "n"}), Catch::Contains("given twice"));
    CHECK_THROWS_WITH(spec.parse({}), Catch::StartsWith("missing NAME (usage:"));
    CHECK_THROWS_WITH(spec.parse({"a", "b"}), Catch::Contains("unexpected argument 'b'"));
    CHECK_THROWS_WITH(spec.parse({"--force=yes", "n"}), Catch::Contains("takes no value"));
}

TEST_CASE("atomic writes create files with the requested mode and replace whole contents", "[unit]") {
    char dir_template[] = "/tmp/mcpmtls-unit-XXXXXX";
    std::string dir = mkdtemp(dir_template);
    const std::string path = dir + "/secret.key";
    write_file_atomic(path, "first", 0600);
    write_file_atomic(path, "second, longer", 0600);
    CHECK(read_file(path) == "second, longer");
    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    // No temporary file is left beside it.
    CHECK(system(("test $(ls -A " + dir + " | wc -l) -eq 1").c_str()) == 0);
    CHECK_THROWS_AS(write_file_atomic(dir + "/missing-dir/x", "y", 0600), OperationError);
    CHECK_THROWS_AS(read_file(dir + "/nope"), InputError);
    REQUIRE(system(("rm -rf " + dir).c_str()) == 0);
}
