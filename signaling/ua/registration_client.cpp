#include "signaling/ua/registration_client.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

#include "common/log.hpp"
#include "common/random.hpp"
#include "signaling/message/sip_uri.hpp"

namespace chorus::sip {
namespace {

constexpr std::size_t kTagLength = 16;
constexpr std::size_t kCallIdLength = 24;

std::optional<std::int64_t> parse_seconds(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [next, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc{} || next != end || value < 0) return std::nullopt;
  return value;
}

std::string status_text(const SipMessage& response) {
  return std::to_string(response.status) + " " +
         (response.reason.empty() ? std::string(default_reason(response.status)) : response.reason);
}

}  // namespace

HopLookup resolver_hop_lookup(HostResolver& resolver, std::string host, std::optional<std::uint16_t> port,
                              TransportKind transport) {
  const std::uint16_t number = port.value_or(transport == TransportKind::kTls ? 5061 : 5060);
  return [&resolver, host = std::move(host), number, transport](HopCallback done) {
    boost::system::error_code ec;
    const auto literal = boost::asio::ip::make_address(host, ec);
    if (!ec) {
      done(PeerAddress{transport, literal, number, 0});
      return;
    }
    resolver.resolve(host, [done = std::move(done), host, number, transport](ResolveResult result) {
      if (!result || result->empty()) {
        done(std::unexpected("registrar " + host + " does not resolve" +
                             (result ? std::string() : ": " + result.error().detail)));
        return;
      }
      done(PeerAddress{transport, result->front(), number, 0});
    });
  };
}

HopLookup locator_hop_lookup(SipLocator& locator, std::string registrar_uri) {
  return [&locator, registrar_uri = std::move(registrar_uri)](HopCallback done) {
    auto uri = parse_uri(registrar_uri);
    if (!uri) {
      done(std::unexpected("registrar " + registrar_uri + " is no SIP URI"));
      return;
    }
    locator.locate(*uri, [done = std::move(done), registrar_uri](LocateResult result) {
      if (!result || result->empty()) {
        done(std::unexpected("registrar " + registrar_uri + " cannot be located" +
                             (result ? std::string() : ": " + result.error().detail)));
        return;
      }
      done(result->front().hop);
    });
  };
}

Millis registration_refresh_delay(std::chrono::seconds granted) {
  const auto half = std::chrono::duration_cast<Millis>(granted) / 2;
  const auto before_end = std::chrono::duration_cast<Millis>(granted - std::chrono::seconds(30));
  return std::max(Millis(1000), std::min(half, before_end));
}

Millis registration_retry_delay(unsigned failures, double jitter) {
  Millis delay = kRegistrationFirstRetry;
  for (unsigned i = 1; i < failures && delay < kRegistrationMaxRetry; ++i) delay *= 2;
  delay = std::min(delay, kRegistrationMaxRetry);
  jitter = std::clamp(jitter, 0.0, 1.0);
  return delay - Millis(static_cast<Millis::rep>(static_cast<double>(delay.count()) * 0.25 * jitter));
}

RegistrationClient::RegistrationClient(UserAgent& ua, TimerQueue& timers, RegistrationSettings settings,
                                       HopLookup lookup, Listener listener)
    : ua_(ua),
      timers_(timers),
      settings_(std::move(settings)),
      lookup_(std::move(lookup)),
      listener_(std::move(listener)),
      call_id_(random_alphanumeric(kCallIdLength)),
      from_tag_(random_alphanumeric(kTagLength)),
      expires_(settings_.expires) {}

RegistrationClient::~RegistrationClient() {
  timers_.cancel(timer_);
}

void RegistrationClient::start() {
  set_phase(RegistrationPhase::kRegistering);
  attempt();
}

void RegistrationClient::attempt() {
  if (stopping_) return;
  if (hop_) {
    send_register(expires_, false);
    return;
  }
  lookup_([this, alive = std::weak_ptr<Token>(token_)](std::expected<PeerAddress, std::string> hop) {
    if (alive.expired() || stopping_) return;
    if (!hop) {
      failed(hop.error());
      return;
    }
    hop_ = *hop;
    send_register(expires_, false);
  });
}

std::string RegistrationClient::request_uri() const {
  // §10.2: the Request-URI names the registrar's domain, no user part.
  std::string uri = "sip:" + bracket_host(settings_.registrar_host);
  if (settings_.registrar_port) uri += ":" + std::to_string(*settings_.registrar_port);
  if (settings_.transport != TransportKind::kUdp) {
    std::string name(transport_name(settings_.transport));
    std::ranges::transform(name, name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    uri += ";transport=" + name;
  }
  return uri;
}

std::string RegistrationClient::contact() const {
  // The UA's Contact for the transport ("<sip:chorus@host:port;…>") with the trunk's user part.
  // Over the transport the hop uses (a locator may pick another than the URI's).
  std::string contact = ua_.contact_for(hop_ ? hop_->kind : settings_.transport);
  const auto colon = contact.find(':');
  const auto at = contact.find('@');
  if (colon != std::string::npos && at != std::string::npos && colon < at) {
    contact.replace(colon + 1, at - colon - 1, settings_.contact_user);
  }
  return contact;
}

void RegistrationClient::send_register(std::chrono::seconds expires, bool answering) {
  answered_this_request_ = answering;
  const std::string target = request_uri();
  const std::string aor = "<sip:" + settings_.username + "@" + bracket_host(settings_.registrar_host) + ">";
  SipMessage request;
  request.is_request = true;
  request.method = "REGISTER";
  request.request_uri_text = target;
  if (auto uri = parse_uri(target)) request.request_uri = std::move(*uri);
  request.add_header("Max-Forwards", "70");
  request.add_header("From", aor + ";tag=" + from_tag_);  // §10.2: To and From are the AOR
  request.add_header("To", aor);
  request.add_header("Call-ID", call_id_);
  request.add_header("CSeq", std::to_string(++cseq_) + " REGISTER");
  request.add_header("Contact", contact());
  request.add_header("Expires", std::to_string(expires.count()));  // §10.2.1.1
  request.add_header("Allow", ua_.allowed_methods());
  if (challenge_) {
    // RFC 2617 §3.2.2: each request answering the same nonce counts up.
    request.add_header(std::string(digest_response_header_name(*challenge_)),
                       digest_response_header(*challenge_, settings_.credentials, "REGISTER", target, ++nonce_count_));
  }
  const std::uint64_t generation = generation_;
  ua_.send_request(std::move(request), *hop_,
                   [this, alive = std::weak_ptr<Token>(token_), generation, expires](const SipMessage& response) {
                     if (alive.expired()) return;
                     on_response(generation, expires, response);
                   });
}

void RegistrationClient::on_response(std::uint64_t generation, std::chrono::seconds expires,
                                     const SipMessage& response) {
  if (generation != generation_) return;  // a REGISTER from before stop()
  const int status = response.status;
  if (stopping_) {
    if ((status == 401 || status == 407) && answer_challenge(response, expires)) return;
    set_phase(RegistrationPhase::kUnregistered);
    if (stopped_) timers_.schedule(Millis(0), std::move(stopped_));
    return;
  }
  if (status >= 200 && status < 300) {
    registered(response, expires);
  } else if (status == 401 || status == 407) {
    if (!answer_challenge(response, expires)) failed(status_text(response) + " (credentials refused)");
  } else if (status == 423) {
    // §10.2.8: ask again for at least Min-Expires.
    const std::string* min = response.header("Min-Expires");
    const auto seconds = min != nullptr ? parse_seconds(*min) : std::nullopt;
    if (!seconds || *seconds <= expires_.count() || *seconds > kMaxMinExpires.count()) {
      failed(status_text(response) + " without a usable Min-Expires");
      return;
    }
    expires_ = std::chrono::seconds(*seconds);
    send_register(expires_, false);
  } else {
    failed(status_text(response));
  }
}

bool RegistrationClient::answer_challenge(const SipMessage& response, std::chrono::seconds expires) {
  auto challenge = pick_challenge(response);
  if (!challenge) return false;
  // The request that carried our answer was refused again: the credentials are wrong, unless the
  // nonce merely went stale (RFC 2617 §3.2.1).
  if (answered_this_request_ && !challenge->stale) return false;
  if (!settings_.realm.empty() && challenge->realm != settings_.realm) return false;
  challenge_ = std::move(*challenge);
  nonce_count_ = 0;
  send_register(expires, true);
  return true;
}

void RegistrationClient::registered(const SipMessage& response, std::chrono::seconds asked) {
  // §10.2.4: the registrar lists every binding of the AOR; ours is the Contact with our user, its
  // `expires` parameter the time granted, else the Expires header, else what we asked for.
  std::optional<std::int64_t> granted;
  for (const NameAddr& binding : response.contacts) {
    if (binding.uri.user != settings_.contact_user) continue;
    if (const GenericParam* param = find_param(binding.params, "expires")) granted = parse_seconds(param->value);
    if (granted) break;
  }
  if (!granted) {
    if (const std::string* header = response.header("Expires")) granted = parse_seconds(*header);
  }
  const auto seconds = std::chrono::seconds(granted.value_or(asked.count()));
  if (seconds.count() <= 0) {
    failed("the registrar kept no binding for our Contact");
    return;
  }
  failures_ = 0;
  report_ = RegistrationReport{
      .phase = RegistrationPhase::kRegistered, .error = {}, .granted = seconds, .retry_in = Millis(0)};
  if (listener_) listener_(report_);
  schedule(registration_refresh_delay(seconds), &RegistrationClient::attempt);
}

void RegistrationClient::failed(std::string error) {
  ++failures_;
  hop_.reset();  // the next attempt looks the registrar up again
  const double jitter = static_cast<double>(random_below(1'000'000)) / 1'000'000.0;
  const Millis delay = registration_retry_delay(failures_, jitter);
  report_ = RegistrationReport{
      .phase = RegistrationPhase::kFailed, .error = std::move(error), .granted = {}, .retry_in = delay};
  CHORUS_LOG(kWarn, "sip", "registration failed", {"registrar", settings_.registrar_host}, {"error", report_.error},
             {"retry_ms", delay.count()});
  if (listener_) listener_(report_);
  schedule(delay, &RegistrationClient::attempt);
}

void RegistrationClient::stop(std::function<void()> done) {
  stopping_ = true;
  timers_.cancel(timer_);
  timer_ = TimerQueue::kNoTimer;
  ++generation_;  // answers to REGISTERs sent so far no longer matter
  if (!hop_ || report_.phase == RegistrationPhase::kUnregistered) {
    set_phase(RegistrationPhase::kUnregistered);
    if (done) timers_.schedule(Millis(0), std::move(done));
    return;
  }
  stopped_ = std::move(done);
  send_register(std::chrono::seconds(0), false);  // §10.2.2: Expires: 0 removes our binding
}

void RegistrationClient::set_phase(RegistrationPhase phase, std::string error) {
  report_ = RegistrationReport{.phase = phase, .error = std::move(error), .granted = {}, .retry_in = Millis(0)};
  if (listener_) listener_(report_);
}

void RegistrationClient::schedule(Millis after, void (RegistrationClient::*what)()) {
  timers_.cancel(timer_);
  timer_ = timers_.schedule(after, [this, alive = std::weak_ptr<Token>(token_), what] {
    if (alive.expired()) return;
    timer_ = TimerQueue::kNoTimer;
    (this->*what)();
  });
}

}  // namespace chorus::sip
