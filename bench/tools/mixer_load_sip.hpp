// mixer_load SIP: the calls of the capacity generator (bench/tools/mixer_load.cpp), one UAC dialog
// per participant over UDP (RFC 3261), with its own SIP socket and its own RTP socket.
//
// establish_calls sends the INVITEs (at most `window` outstanding), retransmits each on Timer A
// (RFC 3261 §17.1.1.2) until a provisional answer, ACKs every final answer (§17.1.1.3 for non-2xx,
// §13.2.2.4 for 2xx) and reads the answer's c= and m= port (RFC 4566 §5.7, §5.14) and, when the
// offer carried ssrc-audio-level (RFC 6464 §4), the answer's a=extmap id for it. A call not
// answered within `answer_timeout` fails (and is CANCELled if it was ringing, §9.1).
// service_calls reads what the server sends during the media phase: a retransmitted 200 gets its
// ACK again, a BYE its 200. terminate_calls sends BYE on every dialog (Timer E, §17.1.2.2) and waits
// a bounded time for the answers. Every loop has a deadline; nothing blocks.
// Threading: one thread (the generator's).
#pragma once

#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <expected>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "mixer_load_audio.hpp"

namespace chorus::bench {

enum class CallState { kIdle, kCalling, kProceeding, kConfirmed, kFailed };

struct SipCall {
  int sip_fd = -1;
  int rtp_fd = -1;
  std::uint16_t sip_port = 0;
  std::uint16_t rtp_port = 0;
  std::string call_id;
  std::string from_tag;
  std::string invite_branch;
  std::string invite;         // kept for Timer A retransmissions and the CANCEL
  std::string to_header;      // the answer's To, with the server's tag
  std::string remote_target;  // the answer's Contact URI: the Request-URI of ACK and BYE
  CallState state = CallState::kIdle;
  int final_status = 0;  // 408 when we gave up waiting
  bool dialog = false;   // a 2xx was received: the dialog needs a BYE
  bool ended_by_server = false;
  bool bye_answered = false;
  sockaddr_in media{};              // where our RTP goes: the answer's c= address and m= port
  std::uint8_t audio_level_id = 0;  // the answer's RFC 8285 one-byte id for ssrc-audio-level; 0: not sent
  std::chrono::steady_clock::time_point invite_sent{};
  std::chrono::steady_clock::time_point retransmit_at{};
  std::chrono::milliseconds retransmit_interval{0};
};

struct SipSettings {
  sockaddr_in server{};
  std::string room;
  std::string local_ip = "127.0.0.1";
  LoadCodec codec = LoadCodec::kOpus;
  bool audio_level = false;  // offer a=extmap ssrc-audio-level (RFC 6464 §4), as a browser does
  std::size_t window = 50;   // INVITEs (and BYEs) outstanding at once
  std::chrono::milliseconds answer_timeout{5000};
  std::chrono::milliseconds bye_timeout{5000};
};

struct SipTotals {
  std::size_t answered = 0;
  std::size_t failed = 0;
  std::map<int, std::size_t> failure_statuses;  // final status (408: no answer in time) → calls
  std::size_t byes_sent = 0;
  std::size_t byes_answered = 0;
  std::size_t ended_by_server = 0;
  std::size_t acks_resent = 0;
};

// Opens the call's SIP and RTP sockets (non-blocking, ephemeral ports on local_ip).
[[nodiscard]] std::expected<void, std::string> open_call(SipCall& call, const SipSettings& settings, std::mt19937& rng);

void establish_calls(std::vector<SipCall>& calls, const SipSettings& settings, std::mt19937& rng, SipTotals& totals);

// Reads every call's SIP socket once (non-blocking) and answers what the server sent.
void service_calls(std::vector<SipCall>& calls, const SipSettings& settings, std::mt19937& rng, SipTotals& totals);

void terminate_calls(std::vector<SipCall>& calls, const SipSettings& settings, std::mt19937& rng, SipTotals& totals);

void close_call(SipCall& call);

}  // namespace chorus::bench
