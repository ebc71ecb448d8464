// Strict JSON parsing: a SAX handler that builds the document, refuses
// duplicate keys and keeps the parser's error position.
//
// json::parse(text, nullptr, false) cannot do this job: on failure it returns
// a discarded value without saying where the text went wrong, and it keeps
// the last of two equal keys. sax_parse reports errors to the handler instead
// of throwing, so no exception escapes either way.
#include "config/json_parse.h"

#include <algorithm>
#include <cstdio>
#include <unordered_set>
#include <utility>
#include <vector>

#include "config/formats.h"

namespace litepool::config::internal {
namespace {

class StrictBuilder {
 public:
  explicit StrictBuilder(std::string_view text) : text_(text) {}

  // nlohmann's SAX interface; returning false stops the parse.
  bool null() { return Put(nullptr); }
  bool boolean(bool value) { return Put(value); }
  bool number_integer(Json::number_integer_t value) { return Put(value); }
  bool number_unsigned(Json::number_unsigned_t value) { return Put(value); }
  bool number_float(Json::number_float_t value, const Json::string_t&) { return Put(value); }
  bool string(Json::string_t& value) { return Put(std::move(value)); }
  bool binary(Json::binary_t& value) { return Put(Json::binary(std::move(value))); }
  bool start_object(std::size_t) { return Open(Json::object()); }
  bool end_object() { return Close(); }
  bool start_array(std::size_t) { return Open(Json::array()); }
  bool end_array() { return Close(); }

  bool key(Json::string_t& key) {
    Frame& frame = stack_.back();
    if (!frame.keys.insert(key).second) {
      frame.key = std::move(key);
      error_ = Path() + ": duplicate key";
      return false;
    }
    frame.key = std::move(key);
    return true;
  }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) {
    // position counts the bytes read, the offending one included.
    size_t end = std::min(position, text_.size());
    size_t line = 1, column = 0;
    for (size_t i = 0; i < end; ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 0;
      } else {
        ++column;
      }
    }
    // what() is "[json.exception.parse_error.101] parse error at line 1,
    // column 2: <detail>"; keep the detail, the position is said above.
    std::string_view what = ex.what();
    size_t at = what.find("column ");
    at = at == std::string_view::npos ? at : what.find(": ", at);
    std::string_view detail = at == std::string_view::npos ? what : what.substr(at + 2);
    error_ = "invalid JSON at byte " + std::to_string(position) + " (line " + std::to_string(line) +
             ", column " + std::to_string(column) +
             "): " + Escape(detail, /*escape_non_ascii=*/true);
    return false;
  }

  Json TakeRoot() { return std::move(root_); }
  const std::string& error() const { return error_; }

 private:
  struct Frame {
    Json* value;      // points into the parent, which is not modified while open
    std::string key;  // last key read, for objects
    std::unordered_set<std::string> keys;  // a set: a linear search is quadratic
    size_t index = 0;                      // elements so far, for arrays
  };

  // Inserts `value` where the parser is and returns where it went.
  Json* Insert(Json value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    Frame& frame = stack_.back();
    if (frame.value->is_array()) {
      ++frame.index;
      frame.value->push_back(std::move(value));
      return &frame.value->back();
    }
    Json& slot = (*frame.value)[frame.key];
    slot = std::move(value);
    return &slot;
  }

  bool Put(Json value) {
    Insert(std::move(value));
    return true;
  }

  bool Open(Json container) {
    stack_.push_back(Frame{Insert(std::move(container)), {}, {}, 0});
    return true;
  }

  bool Close() {
    stack_.pop_back();
    return true;
  }

  // Dotted path of the current key, with [i] for array elements.
  std::string Path() const {
    std::string path;
    for (const Frame& frame : stack_) {
      if (frame.value->is_array()) {
        path += "[" + std::to_string(frame.index - 1) + "]";
      } else {
        if (!path.empty()) path += ".";
        path += Escape(frame.key);
      }
    }
    return path;
  }

  std::string_view text_;
  Json root_;
  std::vector<Frame> stack_;
  std::string error_;
};

}  // namespace

std::optional<Json> ParseStrict(std::string_view text, std::string* error) {
  StrictBuilder builder(text);
  bool ok = Json::sax_parse(text, &builder, Json::input_format_t::json, /*strict=*/true);
  if (!ok) {
    *error = builder.error().empty() ? "invalid JSON" : builder.error();
    return std::nullopt;
  }
  return builder.TakeRoot();
}

}  // namespace litepool::config::internal
