#include "conference/cluster/notifying_store.hpp"

namespace chorus::conference::cluster {

template <typename T>
StoreResult<T> NotifyingStore::reported(StoreResult<T> result, StoreKind kind, std::string_view id, StoreOp op) {
  // kIo: the write may have committed before the answer was lost; a peer re-reading is harmless.
  if (result || result.error().kind == StoreErrorKind::kIo)
    changed_(StoreChange{.kind = kind, .id = std::string(id), .op = op});
  return result;
}

StoreResult<Room> NotifyingStore::create_room(const Room& room) {
  return reported(inner_->create_room(room), StoreKind::kRoom, room.id, StoreOp::kUpsert);
}

StoreResult<std::uint64_t> NotifyingStore::update_room(const Room& room, std::uint64_t expected_version) {
  return reported(inner_->update_room(room, expected_version), StoreKind::kRoom, room.id, StoreOp::kUpsert);
}

StoreResult<void> NotifyingStore::delete_room(std::string_view id) {
  return reported(inner_->delete_room(id), StoreKind::kRoom, id, StoreOp::kDelete);
}

StoreResult<MeetingRecord> NotifyingStore::create_meeting(const MeetingRecord& meeting) {
  return reported(inner_->create_meeting(meeting), StoreKind::kMeeting, meeting.id, StoreOp::kUpsert);
}

StoreResult<std::uint64_t> NotifyingStore::update_meeting(const MeetingRecord& meeting,
                                                          std::uint64_t expected_version) {
  return reported(inner_->update_meeting(meeting, expected_version), StoreKind::kMeeting, meeting.id, StoreOp::kUpsert);
}

StoreResult<void> NotifyingStore::delete_meeting(std::string_view id) {
  return reported(inner_->delete_meeting(id), StoreKind::kMeeting, id, StoreOp::kDelete);
}

}  // namespace chorus::conference::cluster
