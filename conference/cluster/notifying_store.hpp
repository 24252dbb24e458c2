// NotifyingStore: the Store of a node sharing its database with others (issue 14). Every call goes
// to the store it wraps (PostgresStore); after a write of a room or a meeting — committed, or with
// an outcome the store could not learn (kIo) — it reports the change (notify_codec.hpp
// StoreChange), which chorusd sends on chorus_store so the other nodes re-read that record into
// the views their SIP path reads (rooms, meeting calendar). Deleting a room says so for the room
// only: its meetings go with it (ON DELETE CASCADE), and a node dropping a room drops its meetings.
// Threading: the wrapped store's (control loop); `changed` is called inline, after the write.
#pragma once

#include <functional>
#include <memory>

#include "conference/cluster/notify_codec.hpp"
#include "conference/store/store.hpp"

namespace chorus::conference::cluster {

class NotifyingStore final : public Store {
 public:
  NotifyingStore(std::unique_ptr<Store> inner, std::function<void(const StoreChange&)> changed)
      : inner_(std::move(inner)), changed_(std::move(changed)) {}

  StoreResult<Room> create_room(const Room& room) override;
  StoreResult<Room> get_room(std::string_view id) override { return inner_->get_room(id); }
  StoreResult<std::vector<Room>> list_rooms(std::string_view after_id, std::size_t limit) override {
    return inner_->list_rooms(after_id, limit);
  }
  StoreResult<std::uint64_t> update_room(const Room& room, std::uint64_t expected_version) override;
  StoreResult<void> delete_room(std::string_view id) override;

  StoreResult<MeetingRecord> create_meeting(const MeetingRecord& meeting) override;
  StoreResult<MeetingRecord> get_meeting(std::string_view id) override { return inner_->get_meeting(id); }
  StoreResult<std::vector<MeetingRecord>> list_meetings(std::string_view after_id, std::size_t limit,
                                                        std::optional<std::string_view> room_id) override {
    return inner_->list_meetings(after_id, limit, room_id);
  }
  StoreResult<std::vector<MeetingRecord>> list_meetings_for_room(std::string_view room_id) override {
    return inner_->list_meetings_for_room(room_id);
  }
  StoreResult<std::uint64_t> update_meeting(const MeetingRecord& meeting, std::uint64_t expected_version) override;
  StoreResult<void> delete_meeting(std::string_view id) override;

  StoreResult<void> create_api_key(const ApiKey& key) override { return inner_->create_api_key(key); }
  StoreResult<ApiKey> get_api_key(std::string_view id) override { return inner_->get_api_key(id); }
  StoreResult<ApiKey> find_api_key_by_token_hash(std::string_view token_hash) override {
    return inner_->find_api_key_by_token_hash(token_hash);
  }
  StoreResult<std::vector<ApiKey>> list_api_keys(std::string_view after_id, std::size_t limit) override {
    return inner_->list_api_keys(after_id, limit);
  }
  StoreResult<void> delete_api_key(std::string_view id) override { return inner_->delete_api_key(id); }

  StoreResult<void> create_webhook(const Webhook& webhook) override { return inner_->create_webhook(webhook); }
  StoreResult<Webhook> get_webhook(std::string_view id) override { return inner_->get_webhook(id); }
  StoreResult<std::vector<Webhook>> list_webhooks(std::string_view after_id, std::size_t limit) override {
    return inner_->list_webhooks(after_id, limit);
  }
  StoreResult<void> delete_webhook(std::string_view id) override { return inner_->delete_webhook(id); }

  StoreResult<std::int64_t> add_delivery(const WebhookDelivery& delivery) override {
    return inner_->add_delivery(delivery);
  }
  StoreResult<void> update_delivery(const WebhookDelivery& delivery) override {
    return inner_->update_delivery(delivery);
  }
  StoreResult<std::vector<WebhookDelivery>> list_deliveries(std::string_view webhook_id, std::int64_t after_id,
                                                            std::size_t limit) override {
    return inner_->list_deliveries(webhook_id, after_id, limit);
  }
  StoreResult<std::uint64_t> prune_deliveries(std::size_t keep,
                                              std::chrono::system_clock::time_point older_than) override {
    return inner_->prune_deliveries(keep, older_than);
  }

  // Trunks are read by each node from the store at start and written through its own REST API;
  // other nodes are not notified (issue 15 leaves clustered trunk changes to a restart).
  StoreResult<Trunk> create_trunk(const Trunk& trunk) override { return inner_->create_trunk(trunk); }
  StoreResult<Trunk> get_trunk(std::string_view id) override { return inner_->get_trunk(id); }
  StoreResult<std::vector<Trunk>> list_trunks(std::string_view after_id, std::size_t limit) override {
    return inner_->list_trunks(after_id, limit);
  }
  StoreResult<std::uint64_t> update_trunk(const Trunk& trunk, std::uint64_t expected_version) override {
    return inner_->update_trunk(trunk, expected_version);
  }
  StoreResult<void> delete_trunk(std::string_view id) override { return inner_->delete_trunk(id); }

  [[nodiscard]] Store& inner() { return *inner_; }

 private:
  // After a write: reported when it committed or its outcome is unknown.
  template <typename T>
  StoreResult<T> reported(StoreResult<T> result, StoreKind kind, std::string_view id, StoreOp op);

  std::unique_ptr<Store> inner_;
  std::function<void(const StoreChange&)> changed_;
};

}  // namespace chorus::conference::cluster
