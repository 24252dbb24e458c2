// TrunkRegistrations (issue 15): the TrunkDirectory's changes drive one RegistrationClient per trunk
// with a registration, over the real UA and transaction layer (UaHarness): a new trunk registers, a
// change of name leaves it alone, new credentials withdraw the old binding and register again, a
// deleted trunk withdraws (Expires: 0); reports become the trunk's status and events.
#include "server/trunk_registrations.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "conference/store/sqlite_store.hpp"
#include "tests/unit/signaling/ua/user_agent_test_support.hpp"
#include "tests/unit/test_support/temp_dir.hpp"

namespace chorus::server {
namespace trunk_registrations_test {

using namespace std::chrono_literals;
using sip::uatest::UaHarness;

// Never asked: the trunks' registrars are IP literals.
class NoResolver final : public sip::HostResolver {
 public:
  void resolve(const std::string& host, Done done) override {
    ADD_FAILURE() << "unexpected lookup of " << host;
    done(std::unexpected(sip::ResolveError{}));
  }
};

conference::Trunk trunk(std::string password = "s3cret") {
  conference::Trunk t;
  t.id = "trk_1";
  t.name = "provider";
  t.targets = {{.host = "198.51.100.7", .port = 5060, .transport = std::nullopt}};
  t.registration = conference::TrunkRegistration{.username = "4930123456",
                                                 .password = std::move(password),
                                                 .realm = {},
                                                 .expires = 600s,
                                                 .contact_user = "trunk1"};
  return t;
}

struct TrunkRegistrationsTest : ::testing::Test {
  TrunkRegistrationsTest() {
    directory.set_listener([this](std::string_view id, const conference::Trunk* t) { registrations.apply(id, t); });
  }
  std::vector<sip::SipMessage> registers() const { return h.sender.requests("REGISTER"); }
  std::vector<std::string> event_states() const {
    std::vector<std::string> states;
    for (const auto& event : events.since(0, 100).events) {
      if (event.type == conference::event_type::kTrunkRegistrationChanged) states.push_back(event.data["state"]);
    }
    return states;
  }

  UaHarness h;
  NoResolver resolver;
  conference::TrunkDirectory directory;
  conference::EventLog events;
  TrunkRegistrations registrations{h.ua, h.timers, resolver, directory, &events};
};

TEST_F(TrunkRegistrationsTest, NewTrunkRegistersAndReportsItsStatus) {
  directory.replace(trunk());
  ASSERT_EQ(registers().size(), 1U);
  EXPECT_EQ(directory.status("trk_1")->state, conference::RegistrationState::kRegistering);
  h.answer(registers().back(), 200, {{"Expires", "600"}});
  const auto status = directory.status("trk_1");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->state, conference::RegistrationState::kRegistered);
  ASSERT_TRUE(status->expires_at.has_value());
  EXPECT_GT(*status->expires_at, std::chrono::system_clock::now() + 590s);
  EXPECT_EQ(event_states(), (std::vector<std::string>{"registering", "registered"}));
  // A refresh moves expires_at but publishes nothing.
  h.timers.advance(300s);
  ASSERT_EQ(registers().size(), 2U);
  h.answer(registers().back(), 200, {{"Expires", "600"}});
  EXPECT_EQ(event_states().size(), 2U);
}

TEST_F(TrunkRegistrationsTest, FailureShowsTheErrorInStatusAndEvent) {
  directory.replace(trunk());
  h.answer(registers().back(), 403);
  EXPECT_EQ(directory.status("trk_1")->state, conference::RegistrationState::kFailed);
  EXPECT_EQ(directory.status("trk_1")->last_error, "403 Forbidden");
  const auto last = events.since(0, 100).events.back();
  EXPECT_EQ(last.data["state"], "failed");
  EXPECT_EQ(last.data["last_error"], "403 Forbidden");
  EXPECT_EQ(last.data["trunk_id"], "trk_1");
}

TEST_F(TrunkRegistrationsTest, RenameLeavesTheRegistrationAlone) {
  directory.replace(trunk());
  h.answer(registers().back(), 200, {{"Expires", "600"}});
  auto renamed = trunk();
  renamed.name = "renamed";
  directory.replace(renamed);
  EXPECT_EQ(registers().size(), 1U);
  EXPECT_EQ(registrations.active(), 1U);
}

TEST_F(TrunkRegistrationsTest, NewCredentialsWithdrawTheOldBindingAndRegisterAgain) {
  directory.replace(trunk());
  h.answer(registers().back(), 200, {{"Expires", "600"}});
  directory.replace(trunk("changed"));
  auto sent = registers();
  ASSERT_EQ(sent.size(), 3U);
  EXPECT_EQ(*sent[1].header("Expires"), "0");  // the old client's withdrawal
  EXPECT_EQ(*sent[2].header("Expires"), "600");
  EXPECT_NE(sent[2].call_id, sent[0].call_id);  // a new client
  EXPECT_EQ(registrations.retiring(), 1U);
  h.answer(sent[1], 200);
  h.timers.advance(1ms);
  EXPECT_EQ(registrations.retiring(), 0U);
  // The old client's "unregistered" did not overwrite the new one's state.
  EXPECT_EQ(directory.status("trk_1")->state, conference::RegistrationState::kRegistering);
}

TEST_F(TrunkRegistrationsTest, DeletedTrunkOrRegistrationWithdraws) {
  directory.replace(trunk());
  h.answer(registers().back(), 200, {{"Expires", "600"}});
  auto without = trunk();
  without.registration.reset();
  directory.replace(without);
  ASSERT_EQ(registers().size(), 2U);
  EXPECT_EQ(*registers()[1].header("Expires"), "0");
  EXPECT_FALSE(directory.status("trk_1").has_value());
  EXPECT_EQ(registrations.active(), 0U);
  directory.replace(trunk());
  h.answer(registers().back(), 200, {{"Expires", "600"}});
  directory.remove("trk_1");
  EXPECT_EQ(*registers().back().header("Expires"), "0");
}

// RFC 3263 through the UA's locator: what it is asked, and its first hop is where REGISTER goes.
class OneHopLocator final : public sip::SipLocator {
 public:
  void locate(const sip::SipUri& uri, Done done) override {
    asked.push_back(uri.to_string());
    done(std::vector<sip::LocatedHop>{{sip::uatest::udp_peer(), "sip1.provider.example"}});
  }
  std::vector<std::string> asked;
};

TEST(TrunkRegistrationsLocator, RegistrarNameIsLocatedByRfc3263) {
  UaHarness h;
  NoResolver resolver;
  OneHopLocator locator;
  conference::TrunkDirectory directory;
  TrunkRegistrations registrations{h.ua, h.timers, resolver, directory, nullptr, &locator};
  directory.set_listener(
      [&registrations](std::string_view id, const conference::Trunk* t) { registrations.apply(id, t); });
  auto named = trunk();
  named.targets = {{.host = "provider.example", .port = std::nullopt, .transport = conference::TrunkTransport::kTcp}};
  directory.replace(named);
  ASSERT_EQ(locator.asked.size(), 1U);
  EXPECT_EQ(locator.asked[0], "sip:provider.example;transport=tcp");
  const auto sent = h.sender.requests("REGISTER");
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_EQ(h.sender.sent.back().peer.to_string(), sip::uatest::udp_peer().to_string());
  EXPECT_EQ(sent[0].request_uri_text, "sip:provider.example;transport=tcp");
}

TEST(LoadTrunks, ReadsEveryStoredTrunk) {
  chorus::test::TempDir dir;
  auto store = conference::SqliteStore::open((dir.path() / "chorus.db").string());
  ASSERT_TRUE(store.has_value()) << store.error();
  for (int i = 0; i < 150; ++i) {
    auto t = trunk();
    t.id = "trk_" + std::to_string(1000 + i);
    t.name = "t" + std::to_string(i);
    ASSERT_TRUE((*store)->create_trunk(t).has_value());
  }
  conference::TrunkDirectory directory;
  ASSERT_TRUE(load_trunks(**store, directory).has_value());
  EXPECT_EQ(directory.size(), 150U);
}

}  // namespace trunk_registrations_test
}  // namespace chorus::server
