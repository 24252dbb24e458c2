#include <gtest/gtest.h>

#include <string>

#include "store_test_support.hpp"

namespace chorus::conference::test {
namespace store_trunks_test {

Trunk sample_trunk(const std::string& id, const std::string& name) {
  Trunk trunk;
  trunk.id = id;
  trunk.name = name;
  trunk.targets = {{.host = "sip.provider.example", .port = std::nullopt, .transport = std::nullopt},
                   {.host = "192.0.2.10", .port = 5080, .transport = TrunkTransport::kTcp}};
  trunk.registration = TrunkRegistration{.username = "4930123456",
                                         .password = "reg-s3cret",
                                         .realm = "provider.example",
                                         .expires = std::chrono::seconds(300),
                                         .contact_user = "chorus"};
  trunk.outbound = TrunkCredentials{.username = "out-user", .password = "out-s3cret"};
  trunk.inbound_ranges = {"192.0.2.0/24", "2001:db8::/32"};
  trunk.inbound_from_registration = true;
  trunk.numbering = {.country_code = "49", .national_prefix = "0", .international_prefix = "00"};
  trunk.caller_id = "+4930123456";
  trunk.created_at = sample_time(-60min);
  trunk.updated_at = sample_time(-30min);
  trunk.version = 7;  // ignored on create
  return trunk;
}

void expect_same(const Trunk& actual, const Trunk& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.name, expected.name);
  EXPECT_EQ(actual.targets, expected.targets);
  EXPECT_EQ(actual.registration, expected.registration);
  EXPECT_EQ(actual.outbound, expected.outbound);
  EXPECT_EQ(actual.inbound_ranges, expected.inbound_ranges);
  EXPECT_EQ(actual.inbound_from_registration, expected.inbound_from_registration);
  EXPECT_EQ(actual.numbering, expected.numbering);
  EXPECT_EQ(actual.caller_id, expected.caller_id);
  EXPECT_EQ(actual.created_at, expected.created_at);
  EXPECT_EQ(actual.updated_at, expected.updated_at);
}

class StoreTrunks : public StoreTest {};

TEST_P(StoreTrunks, CreateGetKeepsEveryFieldAndThePasswords) {
  const Trunk trunk = sample_trunk("trk_a", "provider");
  auto created = store().create_trunk(trunk);
  ASSERT_TRUE(created.has_value()) << created.error().message;
  EXPECT_EQ(created->version, 1U);
  expect_same(*created, trunk);
  reopen();
  auto got = store().get_trunk("trk_a");
  ASSERT_TRUE(got.has_value()) << got.error().message;
  expect_same(*got, trunk);
}

TEST_P(StoreTrunks, OptionalPartsMayBeAbsent) {
  Trunk trunk = sample_trunk("trk_b", "pbx");
  trunk.registration.reset();
  trunk.outbound.reset();
  trunk.inbound_ranges.clear();
  trunk.targets = {{.host = "pbx.example.com", .port = std::nullopt, .transport = std::nullopt}};
  ASSERT_TRUE(store().create_trunk(trunk).has_value());
  auto got = store().get_trunk("trk_b");
  ASSERT_TRUE(got.has_value()) << got.error().message;
  expect_same(*got, trunk);
}

TEST_P(StoreTrunks, PasswordsAreNotInTheJsonColumns) {
  ASSERT_TRUE(store().create_trunk(sample_trunk("trk_a", "provider")).has_value());
  auto leaked = backend().scalar(
      "SELECT COUNT(*) FROM trunks WHERE registration_json LIKE '%s3cret%' OR targets_json LIKE '%s3cret%'");
  ASSERT_TRUE(leaked.has_value()) << leaked.error();
  EXPECT_EQ(*leaked, 0);
}

TEST_P(StoreTrunks, IdAndNameAreUnique) {
  ASSERT_TRUE(store().create_trunk(sample_trunk("trk_a", "provider")).has_value());
  EXPECT_EQ(error_kind(store().create_trunk(sample_trunk("trk_a", "other"))), StoreErrorKind::kConflict);
  EXPECT_EQ(error_kind(store().create_trunk(sample_trunk("trk_b", "provider"))), StoreErrorKind::kConflict);
}

TEST_P(StoreTrunks, ListPagesBytewiseById) {
  for (const char* id : {"trk_b", "trk_B", "trk_a", "trk_-"}) {
    ASSERT_TRUE(store().create_trunk(sample_trunk(id, std::string("name ") + id)).has_value()) << id;
  }
  auto first = store().list_trunks("", 2);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  ASSERT_EQ(first->size(), 2U);
  EXPECT_EQ((*first)[0].id, "trk_-");
  EXPECT_EQ((*first)[1].id, "trk_B");
  auto rest = store().list_trunks((*first)[1].id, 10);
  ASSERT_TRUE(rest.has_value()) << rest.error().message;
  ASSERT_EQ(rest->size(), 2U);
  EXPECT_EQ((*rest)[0].id, "trk_a");
  EXPECT_EQ((*rest)[1].id, "trk_b");
}

TEST_P(StoreTrunks, UpdateChecksTheVersion) {
  ASSERT_TRUE(store().create_trunk(sample_trunk("trk_a", "provider")).has_value());
  Trunk changed = sample_trunk("trk_a", "renamed");
  changed.registration->password = "new-password";
  changed.outbound.reset();
  EXPECT_EQ(error_kind(store().update_trunk(changed, 5)), StoreErrorKind::kVersionMismatch);
  auto version = store().update_trunk(changed, 1);
  ASSERT_TRUE(version.has_value()) << version.error().message;
  EXPECT_EQ(*version, 2U);
  auto got = store().get_trunk("trk_a");
  ASSERT_TRUE(got.has_value());
  expect_same(*got, changed);
  EXPECT_EQ(got->version, 2U);
  EXPECT_EQ(error_kind(store().update_trunk(sample_trunk("trk_zz", "x"), 1)), StoreErrorKind::kNotFound);
}

TEST_P(StoreTrunks, Delete) {
  ASSERT_TRUE(store().create_trunk(sample_trunk("trk_a", "provider")).has_value());
  EXPECT_TRUE(store().delete_trunk("trk_a").has_value());
  EXPECT_EQ(error_kind(store().get_trunk("trk_a")), StoreErrorKind::kNotFound);
  EXPECT_EQ(error_kind(store().delete_trunk("trk_a")), StoreErrorKind::kNotFound);
}

TEST_P(StoreTrunks, TextThatIsNotUtf8IsRefused) {
  Trunk trunk = sample_trunk("trk_a", "provider");
  trunk.registration->password = std::string("bad\xff", 4);
  EXPECT_EQ(error_kind(store().create_trunk(trunk)), StoreErrorKind::kIo);
}

INSTANTIATE_STORE_SUITE(StoreTrunks);

}  // namespace store_trunks_test
}  // namespace chorus::conference::test
