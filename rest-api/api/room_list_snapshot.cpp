#include "rest-api/api/room_list_snapshot.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "rest-api/api/json_codec.hpp"

namespace chorus::rest {

namespace {

// The store's page size while reading every room for a rebuild.
constexpr std::size_t kRefreshBatch = 1000;

// As HttpResponse::json serialises (invalid UTF-8 becomes U+FFFD rather than throwing).
std::string dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

RoomListSnapshot::RoomListSnapshot(std::string sip_host, std::size_t default_limit)
    : sip_host_(std::move(sip_host)), default_limit_(default_limit) {}

void RoomListSnapshot::on_rooms_changed() {
  // Release: a thread that sees the new count also sees that the room changed before it.
  generation_.fetch_add(1, std::memory_order_release);
}

bool RoomListSnapshot::current() const {
  const auto generation = generation_.load(std::memory_order_acquire);
  std::lock_guard lock(mutex_);
  return built_ != nullptr && built_->generation == generation;
}

conference::StoreResult<void> RoomListSnapshot::refresh(conference::Store& store) {
  if (current()) return {};
  auto built = std::make_shared<Built>();
  // Changes are counted on this thread too, so none can slip in between this load and the build.
  built->generation = generation_.load(std::memory_order_acquire);
  std::string after;
  while (true) {
    auto batch = store.list_rooms(after, kRefreshBatch);
    if (!batch) return std::unexpected(batch.error());
    for (const auto& room : *batch) {
      built->rooms.push_back(
          Entry{room.id, {dump(room_to_json(room, sip_host_, false)), dump(room_to_json(room, sip_host_, true))}});
    }
    if (batch->size() < kRefreshBatch) break;
    after = batch->back().id;
  }
  for (const bool with_pins : {false, true}) {
    built->first_page[with_pins] = body(built->rooms, 0, default_limit_, with_pins);
  }
  std::lock_guard lock(mutex_);
  built_ = std::move(built);
  return {};
}

std::string RoomListSnapshot::page(std::string_view after_id, std::size_t limit, bool with_pins) const {
  std::shared_ptr<const Built> built;
  {
    std::lock_guard lock(mutex_);
    built = built_;
  }
  if (built == nullptr) return {};
  if (after_id.empty() && limit == default_limit_) return built->first_page[with_pins];
  // The store's `WHERE id > after_id ORDER BY id` (byte order, as std::string compares).
  const auto from = std::upper_bound(built->rooms.begin(), built->rooms.end(), after_id,
                                     [](std::string_view id, const Entry& entry) { return id < entry.id; });
  return body(built->rooms, static_cast<std::size_t>(from - built->rooms.begin()), limit, with_pins);
}

// page_body()'s bytes: nlohmann::json objects keep their keys sorted, so "items" comes first.
std::string RoomListSnapshot::body(const std::vector<Entry>& rooms, std::size_t from, std::size_t limit,
                                   bool with_pins) {
  const std::size_t count = std::min(limit, rooms.size() - from);
  std::size_t size = 40;
  for (std::size_t i = from; i < from + count; ++i) size += rooms[i].json[with_pins].size() + 1;
  std::string out;
  out.reserve(size);
  out += R"({"items":[)";
  for (std::size_t i = from; i < from + count; ++i) {
    if (i != from) out += ',';
    out += rooms[i].json[with_pins];
  }
  out += R"(],"next_page_token":)";
  const bool more = from + count < rooms.size() && count > 0;
  out += more ? dump(rooms[from + count - 1].id) : "null";
  out += '}';
  return out;
}

}  // namespace chorus::rest
