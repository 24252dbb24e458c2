#include "server/trunk_registrations.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/log.hpp"
#include "signaling/message/sip_uri.hpp"

namespace chorus::server {
namespace {

conference::RegistrationState state_of(sip::RegistrationPhase phase) {
  switch (phase) {
    case sip::RegistrationPhase::kUnregistered:
      return conference::RegistrationState::kUnregistered;
    case sip::RegistrationPhase::kRegistering:
      return conference::RegistrationState::kRegistering;
    case sip::RegistrationPhase::kRegistered:
      return conference::RegistrationState::kRegistered;
    case sip::RegistrationPhase::kFailed:
      return conference::RegistrationState::kFailed;
  }
  return conference::RegistrationState::kUnregistered;
}

}  // namespace

std::expected<void, std::string> load_trunks(conference::Store& store, conference::TrunkDirectory& trunks) {
  constexpr std::size_t kPage = 100;
  std::string after;
  for (;;) {
    auto page = store.list_trunks(after, kPage);
    if (!page) return std::unexpected("loading trunks: " + page.error().message);
    for (auto& trunk : *page) {
      after = trunk.id;
      trunks.replace(std::move(trunk));
    }
    if (page->size() < kPage) return {};
  }
}

sip::TransportKind transport_of(const conference::TrunkTarget& target) {
  if (!target.transport) return sip::TransportKind::kUdp;
  switch (*target.transport) {
    case conference::TrunkTransport::kUdp:
      return sip::TransportKind::kUdp;
    case conference::TrunkTransport::kTcp:
      return sip::TransportKind::kTcp;
    case conference::TrunkTransport::kTls:
      return sip::TransportKind::kTls;
  }
  return sip::TransportKind::kUdp;
}

TrunkRegistrations::TrunkRegistrations(sip::UserAgent& ua, TimerQueue& timers, sip::HostResolver& resolver,
                                       conference::TrunkDirectory& trunks, conference::EventLog* events,
                                       sip::SipLocator* locator)
    : ua_(ua), timers_(timers), resolver_(resolver), locator_(locator), trunks_(trunks), events_(events) {}

sip::HopLookup TrunkRegistrations::registrar_lookup(const conference::TrunkTarget& registrar) {
  if (locator_ == nullptr)
    return sip::resolver_hop_lookup(resolver_, registrar.host, registrar.port, transport_of(registrar));
  std::string uri = "sip:" + sip::bracket_host(registrar.host);
  if (registrar.port) uri += ":" + std::to_string(*registrar.port);
  if (registrar.transport) uri += ";transport=" + std::string(conference::to_string(*registrar.transport));
  return sip::locator_hop_lookup(*locator_, std::move(uri));
}

TrunkRegistrations::~TrunkRegistrations() = default;

void TrunkRegistrations::apply(std::string_view id, const conference::Trunk* trunk) {
  const auto found = active_.find(id);
  if (trunk == nullptr || !trunk->registration || trunk->targets.empty()) {
    if (found != active_.end()) retire(id);
    return;
  }
  // A change of name, numbering or inbound rules leaves a running registration alone.
  if (found != active_.end() && found->second.registration == *trunk->registration &&
      found->second.registrar == trunk->targets.front()) {
    return;
  }
  if (found != active_.end()) retire(id);
  start(*trunk);
}

void TrunkRegistrations::start(const conference::Trunk& trunk) {
  const conference::TrunkRegistration& registration = *trunk.registration;
  const conference::TrunkTarget& registrar = trunk.targets.front();
  sip::RegistrationSettings settings{
      .registrar_host = registrar.host,
      .registrar_port = registrar.port,
      .transport = transport_of(registrar),
      .username = registration.username,
      .credentials = {.username = registration.username, .password = registration.password},
      .realm = registration.realm,
      .expires = registration.expires,
      .contact_user = std::string(conference::registration_contact_user(registration))};
  const std::string id = trunk.id;
  auto client =
      std::make_unique<sip::RegistrationClient>(ua_, timers_, std::move(settings), registrar_lookup(registrar),
                                                [this, id, serial = ++serial_](const sip::RegistrationReport& report) {
                                                  // A client being withdrawn reports too; only the trunk's current one
                                                  // speaks for it.
                                                  const auto current = active_.find(id);
                                                  if (current != active_.end() && current->second.serial == serial)
                                                    this->report(id, report);
                                                });
  auto& entry = active_[id];
  entry = Active{.registration = registration, .registrar = registrar, .client = std::move(client), .serial = serial_};
  CHORUS_LOG(kInfo, "trunks", "registering", {"trunk_id", id}, {"registrar", registrar.host},
             {"username", registration.username});
  entry.client->start();
}

void TrunkRegistrations::retire(std::string_view id) {
  const auto found = active_.find(id);
  if (found == active_.end()) return;
  std::unique_ptr<sip::RegistrationClient> client = std::move(found->second.client);
  active_.erase(found);
  sip::RegistrationClient* raw = client.get();
  retiring_.push_back(std::move(client));
  CHORUS_LOG(kInfo, "trunks", "withdrawing registration", {"trunk_id", std::string(id)});
  raw->stop([this, alive = std::weak_ptr<Token>(token_), raw] {
    if (alive.expired()) return;
    std::erase_if(retiring_, [raw](const auto& retired) { return retired.get() == raw; });
  });
}

void TrunkRegistrations::stop_all() {
  std::vector<std::string> ids;
  for (const auto& [id, entry] : active_) ids.push_back(id);
  for (const auto& id : ids) retire(id);
}

void TrunkRegistrations::report(const std::string& id, const sip::RegistrationReport& report) {
  const auto previous = trunks_.status(id);
  conference::RegistrationStatus status{.state = state_of(report.phase), .last_error = report.error, .expires_at = {}};
  if (report.phase == sip::RegistrationPhase::kRegistered) {
    status.expires_at = std::chrono::system_clock::now() + report.granted;
  } else if (report.phase == sip::RegistrationPhase::kRegistering && previous) {
    status.last_error = previous->last_error;  // a retry keeps showing why the last attempt failed
  }
  trunks_.set_status(id, status);
  // Each refresh moves expires_at; an event only when the state or the error changes.
  if (previous && previous->state == status.state && previous->last_error == status.last_error) return;
  const conference::Trunk* trunk = trunks_.find(id);
  if (report.phase == sip::RegistrationPhase::kFailed) {
    CHORUS_LOG(kWarn, "trunks", "registration failed", {"trunk_id", id}, {"error", status.last_error});
  } else {
    CHORUS_LOG(kInfo, "trunks", "registration state", {"trunk_id", id},
               {"state", std::string(conference::to_string(status.state))});
  }
  if (events_ == nullptr) return;
  events_->publish(
      conference::event_type::kTrunkRegistrationChanged,
      nlohmann::json{
          {"trunk_id", id},
          {"name", trunk != nullptr ? nlohmann::json(trunk->name) : nlohmann::json(nullptr)},
          {"state", conference::to_string(status.state)},
          {"last_error", status.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(status.last_error)},
          {"expires_at", status.expires_at ? nlohmann::json(conference::format_rfc3339_utc(*status.expires_at))
                                           : nlohmann::json(nullptr)}});
}

}  // namespace chorus::server
