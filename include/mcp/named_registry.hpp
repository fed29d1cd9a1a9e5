#pragma once
// What the tool and prompt registries share: values kept in the order they were added, found by
// their unique, non-empty `name`.
#include <stdexcept>
#include <string>
#include <vector>

namespace mcpmtls::mcp {

template <typename Item>
class NamedRegistry {
public:
    // `kind` names the items in error messages ("tool", "prompt").
    explicit NamedRegistry(const char* kind) : kind_(kind) {}

    // Throws std::invalid_argument on a duplicate or empty name.
    void add(Item item) {
        if (item.name.empty()) throw std::invalid_argument(std::string("a ") + kind_ + " needs a name");
        if (find(item.name)) throw std::invalid_argument(std::string(kind_) + " '" + item.name + "' is registered twice");
        items_.push_back(std::move(item));
    }
    const Item* find(const std::string& name) const {
        for (const auto& item : items_)
            if (item.name == name) return &item;
        return nullptr;
    }
    bool empty() const { return items_.empty(); }
    const std::vector<Item>& items() const { return items_; }

private:
    const char* kind_;
    std::vector<Item> items_;
};

}  // namespace mcpmtls::mcp
