// ChorusServer: the wiring of one chorusd process (DESIGN §1, §2).
//
//   TransportLayer ─▶ TransactionLayer ─▶ UserAgent ─▶ ConferenceService ─▶ UdpPortPool
//          ▲                 │                │                 │
//          └── MessageSender ┴────────────────┘                 └──(post)──▶ MediaWorkerPool
//
// The media workers run their own threads (DESIGN §2); the conference posts sessions to them.
// Threading: everything here lives on the control loop (`io_`), which run() drives. Signals are
// taken on the same loop: SIGTERM/SIGINT drain (BYE every call, stop within shutdown_timeout),
// SIGUSR1 logs one `msg=status` line with the live counts that tests and operators read, SIGHUP
// reloads the configuration (the reloadable part: log_level; other changed keys are named in a
// warning and apply after a restart; a broken file is reported and changes nothing).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/asio_timer_queue.hpp"
#include "common/idle_memory_return.hpp"
#include "conference/conference_service.hpp"
#include "conference/events/event_log.hpp"
#include "conference/recording/recording_service.hpp"
#include "conference/room.hpp"
#include "conference/roster/roster_service.hpp"
#include "conference/schedule/meeting_calendar.hpp"
#include "conference/store/store.hpp"
#include "media/dtls/dtls_certificate.hpp"
#include "media/dtls/dtls_context.hpp"
#include "media/udp_port_pool.hpp"
#include "media/worker/media_worker.hpp"
#include "mixer/prompt_library.hpp"
#include "server/cluster_host.hpp"
#include "server/config.hpp"
#include "server/rest_host.hpp"
#include "server/share_dir.hpp"
#include "server/sip_traffic_metrics.hpp"
#include "server/trunk_registrations.hpp"
#include "signaling/subscription/subscription_manager.hpp"
#include "signaling/transaction/transaction_layer.hpp"
#include "signaling/transport/transport_layer.hpp"
#include "signaling/ua/dns_sip_locator.hpp"
#include "signaling/ua/user_agent.hpp"

namespace chorus::server {

class ChorusServer {
 public:
  explicit ChorusServer(Config config);
  ~ChorusServer();

  // Binds every listener; the error says which one failed.
  std::expected<void, std::string> start();
  // Runs the control loop until a drain completes. Returns the process exit code.
  int run();

  void log_status() const;
  void apply_media_realtime_priority();

  // What SIGHUP re-reads: the same flags, environment and YAML file as at start (main.cpp).
  using Reloader = std::function<std::expected<Config, std::string>()>;
  void set_reloader(Reloader reloader) { reloader_ = std::move(reloader); }

 private:
  // Relays transport events to the transaction layer, which is built after the transport
  // (the two need each other: one sends, the other listens).
  class TransportRelay final : public sip::TransportListener {
   public:
    sip::TransportListener* target = nullptr;
    SipTrafficMetrics* metrics = nullptr;
    void on_message(sip::SipMessage message, const sip::PeerAddress& source) override {
      metrics->count(message, /*outgoing=*/false);
      target->on_message(std::move(message), source);
    }
    void on_bad_message(const sip::ParseError& error, const sip::PeerAddress& source) override {
      target->on_bad_message(error, source);
    }
  };

  void make_dtls_identity();
  std::expected<void, std::string> open_domain();
  std::expected<void, std::string> open_recordings();
  std::expected<void, std::string> start_rest();
  std::expected<void, std::string> start_cluster();  // issue 14: the node's row, link, events
  void start_trunks();  // issue 15: registrations for the stored trunks, and REST changes applied live
  // Loads the IVR prompts (an error when they are missing: chorusd refuses to start), gives the
  // conference its audio hooks.
  std::expected<void, std::string> start_audio();
  void start_video();  // the SFU's settings and hooks (slot maps and keyframe requests by SIP INFO)
  void register_metrics();
  void wait_for_signals();
  void wait_for_signals_again();
  void begin_drain(std::string_view why);
  void reload();  // SIGHUP
  void finish_when_quiet(int remaining_checks);

  Config config_;
  ShareLocations share_;  // prompts and web page, found by start() (server/share_dir.hpp)
  boost::asio::io_context io_;
  AsioTimerQueue timers_{io_};
  conference::RoomDirectory rooms_;
  // Issue 15: SIP trunks — REST writes them (after the store), dial-in and the registrations read them.
  conference::TrunkDirectory trunks_;
  // The domain's durable state and the views the SIP path reads (server/domain_store.hpp), opened
  // by start(); declared before everything that refers to them, so they are destroyed last.
  std::unique_ptr<conference::Store> store_;
  conference::MeetingCalendar calendar_;
  conference::EventLog events_{config_.event_log_max, 1, config_.event_log_max_age};  // issue 12: bounded
  // Issue 15: DSCP marks the kernel refused, SIP and media (common/dscp.hpp); before every socket's owner.
  DscpFailures dscp_failures_;
  media::UdpPortPool ports_;
  // DTLS-SRTP identity: from dtls_cert/dtls_key, or generated (ECDSA P-256) at start.
  std::optional<media::dtls::DtlsCertificate> dtls_certificate_;
  std::optional<media::dtls::DtlsContext> dtls_context_;
  std::string dtls_error_;                           // why DTLS is unavailable; start() fails with it
  std::unique_ptr<media::MediaWorkerPool> workers_;  // before conference_: outlives its handles
  TransportRelay relay_;
  SipTrafficMetrics sip_metrics_;
  std::unique_ptr<sip::TransportLayer> transport_;
  std::unique_ptr<CountingSender> sender_;  // the transport, counting what goes out
  std::unique_ptr<conference::ConferenceService> conference_;
  // Issue 14: this node's part in a cluster sharing one PostgreSQL store (null with SQLite). The
  // UA's listener is its call gate, in front of the conference: after the conference, before the UA.
  std::unique_ptr<ClusterHost> cluster_;
  // Dial-out host names, off the control loop (issue 12); before user_agent_, which refers to it.
  std::unique_ptr<sip::AsioHostResolver> resolver_;
  std::unique_ptr<sip::DnsSipLocator> locator_;  // RFC 3263 for dial-out; null when c-ares cannot start
  std::unique_ptr<sip::UserAgent> user_agent_;
  std::unique_ptr<sip::TransactionLayer> transactions_;
  // The roster (RFC 4575): the package, then the notifier that refers to it, the UA and the timers.
  std::unique_ptr<conference::RosterService> roster_;
  std::unique_ptr<sip::SubscriptionManager> subscriptions_;
  // Issue 15: the trunks' outbound registrations (after the UA and the resolver they use).
  std::unique_ptr<TrunkRegistrations> trunk_registrations_;
  // Control-loop counts copied for /metrics, which renders on the REST thread.
  struct ControlCounts {
    std::atomic<std::uint64_t> calls{0}, server_transactions{0}, client_transactions{0}, rooms{0},
        active_conferences{0}, participants_mcu{0}, participants_sfu{0};
  };
  ControlCounts metrics_snapshot_;
  boost::asio::steady_timer metrics_timer_{io_};
  IdleMemoryReturn idle_memory_return_;  // ticked with the metrics snapshot, once a second
  void refresh_metrics_snapshot();
  // IVR prompts the conference plays; it reads them only while calls run, never at destruction.
  std::optional<mixer::PromptLibrary> prompts_;
  // Recordings of conferences (<data_dir>/recordings): after the conference and the prompts it
  // announces with, before the REST host whose handlers reach it.
  std::unique_ptr<conference::RecordingService> recordings_;
  // What the engines publish for /metrics and the status line (their own counters, DESIGN §1).
  std::vector<PublishedCounter> engine_counters_;
  std::unique_ptr<RestHost> rest_;  // after everything its handlers reach: destroyed before them
  bool ready_ = false;
  boost::asio::signal_set signals_{io_};
  boost::asio::steady_timer drain_timer_{io_};
  bool draining_ = false;
  Reloader reloader_;
};

}  // namespace chorus::server
