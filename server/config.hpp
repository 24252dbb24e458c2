// chorusd configuration: every setting is a command-line flag, a key in an optional YAML file
// (`--config FILE` or CHORUS_CONFIG) and an environment variable CHORUS_<KEY_UPPER_SNAKE>.
// Precedence: flag > env > file > default. Every source is validated, even when a higher one
// overrides it, so a broken file or variable is reported instead of lying in wait.
//
// One table of setting descriptors (server/config_settings.cpp) drives flags, env names, YAML
// keys, --help and --print-config; the defaults are the member initialisers of Config below.
//
// Threading: plain functions over values; load once in main() before any loop starts, then hand
// copies (or const references) of Config to the modules.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "signaling/transport/address_range.hpp"

namespace chorus::server {

// Inclusive UDP port range for RTP/RTCP; `first` is even (RFC 3550 §11: RTP on an even port,
// RTCP on the next odd one when not multiplexed).
struct PortRange {
  std::uint16_t first = 0;
  std::uint16_t last = 0;
  bool operator==(const PortRange&) const = default;
};

// One entry of the offered audio codec list, in preference order: the rtpmap triple
// (RFC 4566 §6 `a=rtpmap:<pt> <name>/<clock rate>[/<channels>]`). Names are canonical spellings.
struct AudioCodecSetting {
  std::string name;
  std::uint32_t clock_rate = 0;
  std::uint8_t channels = 1;
  bool operator==(const AudioCodecSetting&) const = default;
};

// Hardware threads clamped to 1..256 (the default for `workers`).
unsigned default_worker_count();
// The host name, as a node id (the default for `node_id`, issue 14).
std::string default_node_id();

struct Config;
// max_server_transactions, or when it is 0 (the default) 8 per call of max_calls: a call needs
// its INVITE, ACK-less re-INVITE/UPDATE, INFO and BYE transactions alive at once at most, and
// each lingers up to 64*T1; about 2 KB each, so 32 MB at the default 2000 calls.
std::size_t effective_max_server_transactions(const Config& config);

struct Config {
  std::string data_dir = "./var";
  // Where the store lives (issue 14): empty, SQLite in data_dir; a postgresql:// or postgres:// URI,
  // PostgreSQL (several nodes share one). Shown and logged with its password masked.
  std::string store;
  // Issue 14, several nodes on one PostgreSQL store (conference/cluster/, server/cluster_host.hpp):
  // on exactly when `store` is a PostgreSQL URI. The node's name in chorus_nodes and
  // chorus_placements; where a SIP proxy reaches it (host:port; empty: the SIP listener's address
  // and port); where other nodes send REST clients (307; empty: http://<public address>:<http port>);
  // how long a room's placement lasts without renewal (renewed every 2 s).
  std::string node_id = default_node_id();
  std::string node_sip_address;
  std::string node_http_url;
  std::chrono::seconds placement_lease_s{10};
  std::string bind = "0.0.0.0";    // IPv4 or IPv6 literal to listen on
  std::string public_ip;           // empty: derived later from the bind/route
  std::uint16_t sip_port = 5060;   // UDP+TCP; 0 = any free port (tests)
  std::uint16_t sips_port = 5061;  // TLS, when tls_cert/tls_key are set
  std::uint16_t ws_port = 5066;    // SIP over WebSocket (RFC 7118)
  std::uint16_t wss_port = 7443;   // SIP over secure WebSocket, when tls_cert/tls_key are set (as FreeSWITCH)
  std::uint16_t http_port = 8080;  // REST API, /metrics, web page
  PortRange rtp_ports{20000, 29999};
  unsigned workers = default_worker_count();
  // SCHED_RR priority of the media workers' threads, 1-99 (0: the default scheduler). Needs
  // CAP_SYS_NICE or RLIMIT_RTPRIO (systemd: LimitRTPRIO=); refused, chorusd logs it and runs on.
  int media_realtime_priority = 0;
  std::string admin_token;  // empty: the server generates one
  LogLevel log_level = LogLevel::kInfo;
  std::string tls_cert;  // PEM file paths; both or neither; used by SIPS (TLS) and WSS
  std::string tls_key;
  // Web page origins (scheme://host[:port]) allowed to open a SIP WebSocket (RFC 6454); "*" allows
  // any page (unsafe). Empty: the server's own page, http:// and https:// of the public address,
  // 127.0.0.1 and localhost at http_port. Requests without Origin (SIP UAs) are always allowed.
  std::vector<std::string> ws_allowed_origins;
  // DTLS-SRTP certificate (RFC 5763): PEM paths, both or neither; neither: an ECDSA P-256
  // certificate is generated at start.
  std::string dtls_cert;
  std::string dtls_key;
  // IVR prompts (mixer/prompts): a folder of audio files named after the prompts; empty: the
  // share dir's prompts/ (the ones the build spoke with espeak-ng).
  std::string prompts_dir;
  // The installed read-only files (prompts/, web/); empty: found next to the executable, else the
  // build tree (server/share_dir.hpp).
  std::string share_dir;
  std::chrono::milliseconds sip_t1{500};       // RFC 3261 §17.1.1.1: RTT estimate
  std::chrono::milliseconds sip_t2{4000};      // RFC 3261 §17.1.2.2: max non-INVITE retransmit interval
  std::chrono::milliseconds sip_t4{5000};      // RFC 3261 §17.1.2.2: max message lifetime in the network
  std::chrono::seconds session_expires{1800};  // RFC 4028 §4: Session-Expires we ask for
  std::chrono::seconds min_se{90};             // RFC 4028 §5: smallest interval we accept
  std::vector<AudioCodecSetting> audio_codecs{
      {"opus", 48000, 2}, {"G722", 8000, 1}, {"PCMU", 8000, 1}, {"PCMA", 8000, 1}};
  std::uint32_t max_connections_per_ip = 64;
  std::chrono::seconds tcp_idle_timeout{120};
  std::uint32_t max_calls = 2000;  // calls beyond this are refused (486/503)
  // SIP per-source limits (issue 12; signaling/transport/source_rate_limiter.hpp, docs/security.md).
  std::uint32_t sip_requests_per_second_per_source = 30;  // pike-like; 0 turns it off
  std::uint32_t sip_burst_per_source = 60;                // messages a source may send at once
  std::chrono::seconds sip_block_seconds{60};             // how long an offender gets nothing at all
  std::vector<sip::AddressRange> sip_trusted_sources;     // CIDRs exempt from the per-source limits
  std::uint32_t max_calls_per_source = 20;                // beyond: 486 Busy Here, statelessly; 0: none
  std::uint32_t max_server_transactions = 0;              // beyond: 503 + Retry-After; 0: 8 per max_calls
  // Issue 12, process limits and response matching (server/process_hardening.hpp, docs/security.md).
  std::uint32_t fds_per_call = 6;         // descriptors one call may hold; max_calls is lowered to fit RLIMIT_NOFILE
  bool sip_response_source_check = true;  // responses only from where the request went (else dropped)
  // Video in sfu rooms (DESIGN §7): limits per participant and per producer.
  std::uint32_t max_video_slots = 9;          // video sections we send one participant (its slots)
  std::uint32_t max_video_producers = 2;      // video sections one participant may send us
  std::uint32_t max_producer_kbps = 8000;     // a producer above this has its packets dropped
  std::uint32_t default_receive_kbps = 2500;  // what a receiver without bandwidth feedback is sent
  std::chrono::seconds shutdown_timeout{5};   // drain time before a forced stop
  // PINs (conference/pin_security.hpp, docs/security.md): entry timeout, guesses across calls,
  // and the shortest PIN a new room may get over REST.
  std::chrono::seconds pin_entry_timeout{30};    // a caller not admitted by then hears goodbye and gets BYE
  std::uint32_t pin_max_failures = 5;            // wrong PINs from one source within the window → lockout
  std::uint32_t pin_room_max_failures = 20;      // wrong PINs in one room within the window → room guarded
  std::chrono::seconds pin_failure_window{600};  // how long wrong PINs are counted together
  std::chrono::seconds pin_lockout{60};          // first lockout of a source; each next one doubles
  std::chrono::seconds pin_lockout_max{3600};    // the longest lockout
  std::uint32_t min_pin_digits = 6;              // PINs of new rooms (REST); 4..5 allowed with a warning when set so
  // Issue 12, media reflection and hijack (conference/media_guard.hpp, media/transport/source_latch.hpp).
  std::vector<std::string> media_deny_ranges;          // CIDRs an SDP may not name for media (488)
  std::chrono::milliseconds media_latch_window{3000};  // a plain-RTP leg latches to RTP within this
  std::chrono::seconds media_timeout{30};              // no RTP/RTCP from the peer this long: BYE (0: off)
  std::chrono::seconds media_hold_timeout{300};        // the same while held (a=sendonly/inactive)
  std::uint32_t media_rcvbuf = 1048576;                // SO_RCVBUF asked for each RTP/RTCP socket (0: kernel's)
  std::uint32_t sip_udp_rcvbuf = 4194304;              // SO_RCVBUF asked for the SIP UDP socket (0: kernel's)
  // Issue 15, QoS (common/dscp.hpp, media/transport/media_marking.hpp): the DSCP (0-63) SIP, audio and
  // video are sent with, RFC 4594's classes by default; 0 is best effort, the kernel's default.
  std::uint8_t dscp_sip = 24;    // CS3 (RFC 4594 §4.2; some networks use AF31, 26)
  std::uint8_t dscp_audio = 46;  // EF (RFC 3246)
  std::uint8_t dscp_video = 34;  // AF41 (RFC 4594 §4.4)
  // Issue 12, egress and bounded events (conference/egress_policy.hpp, conference/events/, docs/security.md).
  std::vector<std::string> dial_out_allow;  // targets dial-out may reach (ranges, names, *.domain); empty: none
  // DNS servers of the RFC 3263 locator (dial-out, trunks) as IP:port or [IPv6]:port; empty: the
  // system's (/etc/resolv.conf).
  std::vector<std::string> sip_dns_servers;
  std::chrono::milliseconds dial_out_dns_timeout{2000};     // a dial-out host name resolves within this, or fails 504
  bool webhook_allow_private = false;                       // webhooks to private, loopback, link-local addresses
  std::vector<sip::AddressRange> webhook_allow_ranges;      // CIDRs webhooks may reach whatever their kind
  std::uint32_t event_log_max = 10000;                      // events kept for GET /v1/events replay
  std::chrono::seconds event_log_max_age{604800};           // and for at most this long (7 days; 0: no age bound)
  std::uint32_t webhook_queue_max = 10000;                  // webhook deliveries queued or retrying at once
  std::uint32_t webhook_deliveries_max = 10000;             // delivery rows kept in the store
  std::chrono::seconds webhook_deliveries_max_age{604800};  // and for at most this long

  // Issue 11, recordings (conference/recording, <data_dir>/recordings).
  std::uint32_t recordings_quota_mb = 10240;     // all recordings together, MiB (0: no quota)
  std::uint32_t recordings_max_concurrent = 16;  // recordings running at once (each a pipeline and a thread; 503)
  std::uint32_t recordings_retention_days = 0;   // finished recordings older than this are deleted (0: kept)
  bool recording_announce = true;                // everyone hears "this meeting is being recorded" when one starts

  // Issue 12, REST API exhaustion (rest-api/http_server.hpp, api/event_routes.hpp, docs/security.md).
  std::uint32_t http_max_connections = 256;          // REST connections at once; beyond: 503 and close
  std::uint32_t http_max_connections_per_ip = 32;    // the same from one address (loopback too); 0: none
  std::chrono::seconds http_header_timeout{10};      // a request's header block must arrive within (408)
  std::chrono::seconds http_body_timeout{30};        // and its body within this after the header (408)
  std::uint32_t http_max_event_streams_per_key = 4;  // GET /v1/events per API key / admin token (429); 0: none
  std::uint32_t http_max_event_streams = 256;        // all event streams together (503)
  std::uint32_t http_requests_per_second = 20;       // per API key (429 + Retry-After); 0: off
  std::uint32_t http_burst = 40;                     // requests an API key may make at once
  std::uint32_t http_admin_requests_per_second = 0;  // the admin token's own rate; 0: off
  std::uint32_t http_admin_burst = 40;               // requests the admin token may make at once
};

enum class Source { kDefault, kFile, kEnv, kFlag };

std::string_view source_name(Source source);  // "default", "file", "env", "flag"

struct LoadResult {
  Config config;
  // For every setting key (and "config" for the file itself): where its value came from.
  std::map<std::string, Source> sources;
  // The same, as text for people: "default", "flag --sip-port", "env CHORUS_SIP_PORT",
  // "file /etc/chorus.yaml:3".
  std::map<std::string, std::string> origins;
  std::string config_file;  // the YAML file that was read; empty when none
  bool print_config = false;
  bool help = false;  // -h/--help was given: nothing else was read or checked
};

// `args` is argv as main() gets it: args[0] is the program name and is skipped. `env` is the
// process environment (see environment_from) so tests stay hermetic. Errors name the key, the
// source (flag/env/file:line) and what is allowed; the admin token is never echoed.
std::expected<LoadResult, std::string> load_config(std::span<const char* const> args,
                                                   const std::map<std::string, std::string>& env);

// NAME=VALUE entries of a null-terminated environ-style array; entries without '=' are skipped.
std::map<std::string, std::string> environment_from(char** envp);

// The --print-config text: one line per key, `sip_port = 5060  (default)`,
// `http_port = 9000  (env CHORUS_HTTP_PORT)`; the admin token shows as `***`.
std::string render_config(const LoadResult& result);

// The --help text: every flag with its value name, env variable, YAML key, default and meaning.
std::string usage_text();

}  // namespace chorus::server
