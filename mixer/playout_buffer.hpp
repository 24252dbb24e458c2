// PlayoutBuffer: one participant's RTP packets between their arrival and their decode on the room's
// 20 ms tick (DESIGN §3 Audio MCU). Part of the pure mixing core: no GStreamer, no sockets, no
// threads, and no clock but the ticks it is told of.
//
// What it does, the way a receiver's jitter buffer must (RFC 3550 §6.4.1 and appendix A.1 for
// sequence numbers; RFC 3551 §4.1 for talkspurts):
// - orders packets by their extended sequence number, drops duplicates and packets whose turn has
//   passed (late), and restarts on a new SSRC or a jump of more than kMaxDropout;
// - holds a talkspurt's first packet for `prime_ticks` ticks before playing it: that is the jitter
//   it absorbs, and the delay it adds;
// - once playing, hands out one packet at a time as the decoder needs audio; a missing packet with
//   later ones already queued is lost (the decoder conceals it), an empty buffer ends the talkspurt
//   (Opus DTX, comfort noise, a stalled sender) and the next packet primes again;
// - keeps the delay bounded: queued audio spanning more than `max_delay` (a sender whose clock
//   runs fast, a burst after a stall) is skipped oldest first, and never more than `max_packets`
//   packets of at most kMaxPacketBytes are held (the ingress limit, every refusal counted).
// Each packet may carry the sender's RFC 6464 level (its ssrc-audio-level header extension), which
// is handed out with it: the decoder may then leave a frame the mixer will not mix undecoded.
//
// Threading: one thread at a time (the room's media worker: push on receive, the rest on the tick).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace chorus::mixer {

struct PlayoutConfig {
  int prime_ticks = 2;                       // 40 ms: the jitter absorbed, and the delay added
  std::chrono::milliseconds max_delay{200};  // queued audio past this is skipped
  std::uint32_t clock_rate = 8000;           // RTP timestamp units per second
  std::size_t max_packets = 64;              // held at once (the ingress limit)
};

struct PlayoutCounters {
  std::uint64_t queued = 0;      // packets accepted
  std::uint64_t duplicates = 0;  // a packet already queued
  std::uint64_t late = 0;        // its turn had passed (played, concealed or skipped)
  std::uint64_t refused = 0;     // over kMaxPacketBytes
  std::uint64_t skipped = 0;     // queued but dropped to keep the delay bounded
  std::uint64_t lost = 0;        // never came in time: concealed
  std::uint64_t underruns = 0;   // the buffer ran dry while playing (a talkspurt's end included)
  std::uint64_t restarts = 0;    // a new SSRC or a sequence jump
};

enum class PlayoutStep {
  kDecode,   // decode packet()
  kConceal,  // one packet is lost: conceal concealed_duration() from concealed_timestamp()
  kNothing,  // priming, or nothing queued: no more audio this tick
};

// An RFC 6464 §3 level magnitude (0 loudest, 127 silence) as the sender measured it; kNoSenderLevel
// when the packet carried none.
inline constexpr std::uint8_t kNoSenderLevel = 0xFF;

class PlayoutBuffer {
 public:
  static constexpr std::size_t kMaxPacketBytes = 1500;  // one Ethernet MTU: RTP over UDP is never larger here
  static constexpr std::uint64_t kMaxDropout = 3000;    // RFC 3550 A.1's MAX_DROPOUT
  static constexpr std::uint64_t kMaxMisorder = 100;    // RFC 3550 A.1's MAX_MISORDER

  explicit PlayoutBuffer(PlayoutConfig config = {});

  // One arrived packet (header and payload, copied), with the sender's level when it sent one.
  // Counted whatever becomes of it.
  void push(std::uint16_t sequence, std::uint32_t timestamp, std::uint32_t ssrc, std::span<const std::uint8_t> packet,
            std::uint8_t sender_level = kNoSenderLevel);
  // Once per tick, before next(): ages the priming and bounds the delay.
  void start_tick();
  // What the decoder does next when it needs more audio this tick.
  PlayoutStep next();

  // After kDecode: the packet and its RTP timestamp, valid until the next call to push or next.
  [[nodiscard]] std::span<const std::uint8_t> packet() const { return current_; }
  [[nodiscard]] std::uint8_t packet_level() const { return current_level_; }
  [[nodiscard]] std::uint32_t timestamp() const { return last_timestamp_; }
  // After kConceal: the lost packet's RTP timestamp (timestamp()) and its duration in RTP units,
  // taken from the packets before it.
  [[nodiscard]] std::uint32_t concealed_duration() const { return packet_duration_; }
  // The packet that plays next, when it is already queued (empty otherwise), left in place. After
  // kConceal it is the one right after the lost one, whose in-band FEC (Opus, RFC 6716 §2.1.7) may
  // rebuild it. Valid until the next call to push or next.
  [[nodiscard]] std::span<const std::uint8_t> upcoming() const;
  [[nodiscard]] std::uint8_t upcoming_level() const;  // kNoSenderLevel when upcoming() is empty

  [[nodiscard]] bool playing() const { return playing_; }
  [[nodiscard]] std::size_t capacity() const { return slots_.size(); }  // max_packets
  [[nodiscard]] std::size_t queued() const { return queued_; }
  [[nodiscard]] const PlayoutCounters& counters() const { return counters_; }

 private:
  struct Slot {
    std::uint64_t sequence = 0;  // extended
    std::uint32_t timestamp = 0;
    bool used = false;
    std::uint8_t sender_level = kNoSenderLevel;
    std::vector<std::uint8_t> bytes;  // keeps its capacity: no allocation per packet once warm
  };

  std::uint64_t extend(std::uint16_t sequence) const;
  void restart(std::uint64_t sequence);
  void drop(Slot& slot);
  Slot* oldest_queued();
  void skip_past_max_delay();

  PlayoutConfig config_;
  std::vector<Slot> slots_;  // indexed by extended sequence % max_packets
  std::optional<std::uint32_t> ssrc_;
  std::uint64_t next_sequence_ = 0;     // the next one to play (extended)
  std::uint64_t highest_sequence_ = 0;  // the highest queued or played (extended)
  std::uint32_t highest_timestamp_ = 0;
  std::size_t queued_ = 0;
  bool playing_ = false;
  bool played_since_restart_ = false;
  int primed_ticks_ = 0;
  std::vector<std::uint8_t> current_;
  std::uint8_t current_level_ = kNoSenderLevel;
  std::uint32_t last_timestamp_ = 0;
  std::uint64_t last_played_sequence_ = 0;
  std::uint32_t packet_duration_;  // RTP units between consecutive packets (20 ms until seen)
  PlayoutCounters counters_;
};

}  // namespace chorus::mixer
