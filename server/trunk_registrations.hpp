// TrunkRegistrations: one sip::RegistrationClient per trunk with a registration (issue 15), kept in
// step with the TrunkDirectory (its listener): a new trunk starts registering, a changed
// registration or registrar re-registers (the old binding withdrawn), a trunk deleted or without
// registration withdraws its binding (REGISTER Expires: 0). Each client's reports become the
// trunk's RegistrationStatus (GET /v1/trunks/{id}) and, on a change of state or error,
// `trunk.registration_changed` events.
// The registrar is the trunk's first target, located by RFC 3263 (the UA's DnsSipLocator) when
// chorusd has one, else by its A/AAAA records (port 5060) — the choice is registrar_lookup's.
//
// Threading: the control loop only. Clients being withdrawn live in `retiring_` until their
// exchange ends (at most the transaction's 32 s), reached by a token so none outlives this.
#pragma once

#include <expected>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/timer_queue.hpp"
#include "conference/events/event_log.hpp"
#include "conference/store/store.hpp"
#include "conference/trunks/trunk_directory.hpp"
#include "signaling/ua/host_resolver.hpp"
#include "signaling/ua/registration_client.hpp"
#include "signaling/ua/user_agent.hpp"

namespace chorus::server {

class TrunkRegistrations {
 public:
  // All outlive this; `events` may be null; `locator` null: registrars are found by `resolver`.
  TrunkRegistrations(sip::UserAgent& ua, TimerQueue& timers, sip::HostResolver& resolver,
                     conference::TrunkDirectory& trunks, conference::EventLog* events,
                     sip::SipLocator* locator = nullptr);
  ~TrunkRegistrations();
  TrunkRegistrations(const TrunkRegistrations&) = delete;
  TrunkRegistrations& operator=(const TrunkRegistrations&) = delete;

  // The TrunkDirectory's listener: `trunk` new or changed, nullptr when removed.
  void apply(std::string_view id, const conference::Trunk* trunk);
  // Withdraws every binding (shutdown); clients stay until their exchanges end or this is destroyed.
  void stop_all();

  [[nodiscard]] std::size_t active() const { return active_.size(); }
  [[nodiscard]] std::size_t retiring() const { return retiring_.size(); }

 private:
  struct Active {
    conference::TrunkRegistration registration;
    conference::TrunkTarget registrar;
    std::unique_ptr<sip::RegistrationClient> client;
    std::uint64_t serial = 0;  // which start() made it
  };
  struct Token {};

  void start(const conference::Trunk& trunk);
  void retire(std::string_view id);
  void report(const std::string& id, const sip::RegistrationReport& report);
  // How a registrar is found: RFC 3263 with a locator, else its A/AAAA records (port 5060).
  [[nodiscard]] sip::HopLookup registrar_lookup(const conference::TrunkTarget& registrar);

  sip::UserAgent& ua_;
  TimerQueue& timers_;
  sip::HostResolver& resolver_;
  sip::SipLocator* locator_;
  conference::TrunkDirectory& trunks_;
  conference::EventLog* events_;
  std::map<std::string, Active, std::less<>> active_;
  std::vector<std::unique_ptr<sip::RegistrationClient>> retiring_;
  std::uint64_t serial_ = 0;
  std::shared_ptr<Token> token_ = std::make_shared<Token>();
};

// Reads every stored trunk into `trunks` (at start, before the directory has a listener).
std::expected<void, std::string> load_trunks(conference::Store& store, conference::TrunkDirectory& trunks);

// The Request-URI transport for a trunk target's transport (UDP when it names none).
[[nodiscard]] sip::TransportKind transport_of(const conference::TrunkTarget& target);

}  // namespace chorus::server
