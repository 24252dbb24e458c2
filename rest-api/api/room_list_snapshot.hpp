// RoomListSnapshot: the answer to GET /v1/rooms kept in memory (issue 13). Each room is serialised
// once, both ways (with and without its PINs), in id order as the store lists them; the first page
// at the default size is kept whole. A request then costs a page copied out of memory instead of a
// SQLite read transaction (and its fcntl locks) and a JSON tree built and dumped.
//
// Freshness: the snapshot listens to the RoomDirectory (conference/room.hpp), which every room write
// updates after the store has it (REST create/patch/delete, the conference lock, a reload), and
// counts changes. It is current while it was built at the latest count; a request that finds it
// stale goes to the control loop, which rebuilds it from the store (refresh) before answering. So
// an answer never predates a room change whose 2xx was already sent. A store shared with other
// nodes (issue 14) hears of their writes later, so there the wiring does not use a snapshot.
//
// Threading: on_rooms_changed() and refresh() on the control loop (the directory's and the store's
// thread); current() and page() on any thread (the HTTP thread answers from it, router.hpp
// handle_local). A built snapshot is immutable and shared: a page is read from the one taken
// under the mutex.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "conference/room.hpp"
#include "conference/store/store.hpp"

namespace chorus::rest {

class RoomListSnapshot final : public conference::RoomDirectoryListener {
 public:
  // `sip_host` as in ApiServices (rooms' sip_uri); `default_limit` is the page size without ?limit.
  RoomListSnapshot(std::string sip_host, std::size_t default_limit);

  void on_rooms_changed() override;
  [[nodiscard]] bool current() const;
  // Rebuilds from every room in the store unless current; the store's error when listing fails
  // (the snapshot stays stale then).
  conference::StoreResult<void> refresh(conference::Store& store);
  // The GET /v1/rooms body {"items": [...], "next_page_token": id | null} for the rooms after
  // `after_id` (empty: from the first), at most `limit`, PINs included when `with_pins`; the same
  // bytes page_body() of the store's rooms would give. Empty before the first refresh.
  [[nodiscard]] std::string page(std::string_view after_id, std::size_t limit, bool with_pins) const;

 private:
  struct Entry {
    std::string id;
    std::array<std::string, 2> json;  // [with_pins]
  };
  struct Built {
    std::uint64_t generation = 0;
    std::vector<Entry> rooms;               // by id
    std::array<std::string, 2> first_page;  // after_id empty, default_limit
  };
  static std::string body(const std::vector<Entry>& rooms, std::size_t from, std::size_t limit, bool with_pins);

  std::string sip_host_;
  std::size_t default_limit_;
  std::atomic<std::uint64_t> generation_{1};  // bumped by each directory change
  mutable std::mutex mutex_;
  std::shared_ptr<const Built> built_;  // null before the first refresh
};

}  // namespace chorus::rest
