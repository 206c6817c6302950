#pragma once
// JSON for what nlohmann-json 3.11.2 (Debian 12) leaves out: std::optional, as the value or null. Options structs
// serialise themselves into run.json with NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE; their optional members need this.
#include <nlohmann/json.hpp>

#include <optional>

namespace nlohmann {

template <typename T>
struct adl_serializer<std::optional<T>> {
  static void to_json(json& j, const std::optional<T>& v) {
    if (v) {
      j = *v;
    } else {
      j = nullptr;
    }
  }
  static void from_json(const json& j, std::optional<T>& v) {
    if (j.is_null()) {
      v.reset();
    } else {
      v = j.get<T>();
    }
  }
};

}  // namespace nlohmann
