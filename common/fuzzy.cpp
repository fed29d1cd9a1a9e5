#include "common/fuzzy.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

namespace mcpmtls {

std::string fold_name(const std::string& text) {
    // Two-byte UTF-8 Latin-1 supplement letters and a few Latin Extended-A ones.
    static const std::pair<const char*, const char*> folds[] = {
        {"á", "a"}, {"à", "a"}, {"â", "a"}, {"ä", "a"}, {"ã", "a"}, {"å", "a"}, {"Á", "a"}, {"Å", "a"}, {"Ä", "a"},
        {"é", "e"}, {"è", "e"}, {"ê", "e"}, {"ë", "e"}, {"É", "e"}, {"í", "i"}, {"ì", "i"}, {"î", "i"}, {"ï", "i"},
        {"ó", "o"}, {"ò", "o"}, {"ô", "o"}, {"ö", "o"}, {"õ", "o"}, {"ø", "o"}, {"Ö", "o"}, {"Ø", "o"}, {"ú", "u"},
        {"ù", "u"}, {"û", "u"}, {"ü", "u"}, {"Ü", "u"}, {"ç", "c"}, {"Ç", "c"}, {"ñ", "n"}, {"ß", "ss"}, {"ł", "l"},
        {"ś", "s"}, {"ż", "z"}, {"ź", "z"}, {"ć", "c"}, {"ń", "n"}, {"ę", "e"}, {"ą", "a"}, {"š", "s"}, {"č", "c"},
        {"ž", "z"}, {"ř", "r"}, {"ý", "y"}, {"ğ", "g"}, {"ı", "i"}, {"ş", "s"}, {"İ", "i"},
    };
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        bool folded = false;
        if (static_cast<unsigned char>(text[i]) >= 0x80) {
            for (const auto& [from, to] : folds) {
                size_t n = std::char_traits<char>::length(from);
                if (text.compare(i, n, from) == 0) {
                    out += to;
                    i += n;
                    folded = true;
                    break;
                }
            }
            if (!folded) {  // other non-ASCII: keep as is
                out.push_back(text[i++]);
                continue;
            }
            continue;
        }
        unsigned char c = static_cast<unsigned char>(text[i++]);
        if (std::isalnum(c)) out.push_back(static_cast<char>(std::tolower(c)));
        else if (!out.empty() && out.back() != ' ') out.push_back(' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<size_t> previous(b.size() + 1), current(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (size_t j = 1; j <= b.size(); ++j)
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        std::swap(previous, current);
    }
    return previous[b.size()];
}

std::vector<std::string> closest(const std::string& text, const std::vector<std::string>& candidates, size_t limit,
                                 size_t max_distance) {
    const std::string wanted = fold_name(text);
    std::vector<std::pair<size_t, std::string>> scored;
    for (const auto& candidate : candidates) {
        const std::string folded = fold_name(candidate);
        size_t d = edit_distance(wanted, folded);
        if (folded.find(wanted) != std::string::npos && !wanted.empty()) d = std::min<size_t>(d, 1);
        if (d <= max_distance) scored.emplace_back(d, candidate);
    }
    std::stable_sort(scored.begin(), scored.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    std::vector<std::string> out;
    for (size_t i = 0; i < scored.size() && out.size() < limit; ++i) out.push_back(scored[i].second);
    return out;
}

}  // namespace mcpmtls
