// Router: one room's selective forwarding unit, on the room's media worker (DESIGN §3 "SFU", §7).
//
//   producer sinks ─ RTP ─► Producer::classify (layer, RTX unwrap) ─► cache, NACK generator, meter,
//                            keyframe detection ─► each subscribed Slot: StreamRewriter (switch at a
//                            keyframe), VP8 ids, our SSRC/PT, abs-send-time + transport-wide number
//                            ─► MediaSession::send_rtp (SRTP) ─► socket
//   slot sinks ─ PLI/FIR ─► keyframe request to the slot's source (PLI, FIR, or SIP INFO), rate limited
//              ─ NACK ────► the producer layer's cache ─► RTX (RFC 4588) or the packet again
//   transport-cc / REMB ──► the receiver transport's BandwidthEstimator
//   audio MCU, every 20 ms ─► ActiveSpeakerDetector ─► speaker order
//   tick (20 ms) ─► slots (SlotAllocator: the last-N speakers, never oneself, stable) and layers
//                   (LayerSelector under min(estimate, cap)); NACKs to producers; probes; liveness
//
// A receiver has video slots (its send-direction video sections); the router fills them with the
// participants who most recently spoke, switching a slot at the new source's keyframe (asked for
// with PLI/FIR, or SIP INFO picture_fast_update through the listener), so nothing is renegotiated
// when people join, leave or talk. The slot map goes to the listener (→ SIP INFO to browsers, REST,
// events). RTCP is terminated per leg: each session sends its own reports; feedback is acted on here.
//
// Threading: everything on the room's media worker, lock-free; the control loop posts closures that
// call the control methods. Sinks hold a shared_ptr; the conference posts its last reference to the
// worker when the room's video ends, so the router dies there.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/timer_queue.hpp"
#include "media/transport/media_session.hpp"
#include "media/transport/rtcp_feedback.hpp"
#include "sfu/active_speaker.hpp"
#include "sfu/bwe/bandwidth_estimator.hpp"
#include "sfu/layer_selector.hpp"
#include "sfu/producer.hpp"
#include "sfu/router_types.hpp"
#include "sfu/slot.hpp"
#include "sfu/slot_allocator.hpp"

namespace chorus::sfu {

class Router : public std::enable_shared_from_this<Router> {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  static constexpr std::chrono::milliseconds kTick{20};

  Router(std::string name, RouterConfig config, std::shared_ptr<RouterListener> listener,
         std::shared_ptr<SfuCounters> counters);
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Control (posted by the conference). A participant not admitted (held in PIN entry or waiting for
  // the moderator) neither sees anyone nor is seen until set_admitted.
  void add_participant(ParticipantId participant, std::string display_name, bool admitted = true);
  void set_admitted(ParticipantId participant, bool admitted);
  void remove_participant(ParticipantId participant);
  // REST max_receive_kbps: the receiver's slots together get at most this (0: no cap).
  void set_receive_cap(ParticipantId receiver, std::uint64_t bps);
  // The receiver asked for a refresh without RTCP (SIP INFO picture_fast_update): keyframes for
  // every slot it has.
  void request_keyframes_for(ParticipantId receiver);

  // From the sinks.
  ProducerId add_producer(media::MediaSession& session, const ProducerSpec& spec);
  void remove_producer(ProducerId producer);
  SlotId add_slot(media::MediaSession& session, const SlotSpec& spec);
  void remove_slot(SlotId slot);
  void on_producer_rtp(ProducerId producer, media::RtpPacket& packet, std::span<std::uint8_t> buffer);
  void on_slot_feedback(SlotId slot, const media::RtcpFeedback& feedback);
  // transport-cc and REMB from a receiver's transport; false when the session carries no slot.
  bool on_transport_feedback(media::MediaSession& session, const media::RtcpFeedback& feedback);

  // From the room's audio MCU, every 20 ms on the same worker.
  void on_audio_levels(std::span<const SpeakerLevel> levels);

  // For tests and the status of a room.
  [[nodiscard]] std::vector<SlotView> slots_of(ParticipantId receiver) const;
  [[nodiscard]] std::optional<LayerRef> slot_source(ParticipantId receiver, std::size_t order) const;
  [[nodiscard]] std::optional<std::uint64_t> available_bps(ParticipantId receiver) const;
  [[nodiscard]] const RouterConfig& config() const { return config_; }

 private:
  struct Member {
    std::string display_name;
    std::uint64_t receive_cap_bps = 0;
    bool admitted = true;
  };
  struct Receiver {
    ParticipantId participant = 0;
    std::vector<SlotId> slots;  // by SlotSpec::order
    std::optional<SlotAllocator> allocator;
    LayerSelector selector;
    bool map_dirty = true;  // the slot map must be sent again
    // When some producer's codec is one this receiver does not take: the producers it can be shown
    // (a slot is filled from these instead of going dark), and who was passed over (logged once).
    RankedProducers compatible;
    std::vector<ParticipantId> passed_over;
  };
  // A receiving transport (a session carrying slots): its bandwidth estimate and probe.
  struct Transport {
    media::MediaSession* session = nullptr;
    std::optional<bwe::BandwidthEstimator> estimator;  // when the receiver sends transport-cc
    std::optional<std::uint64_t> remb_bps;
    std::size_t slots = 0;
    std::uint64_t stamped = 0;        // packets numbered for transport-cc (diagnostics)
    std::uint64_t send_failures = 0;  // forwarded packets the session refused (diagnostics)
    // A probe cluster being sent (padding at a rate), with its progress.
    std::optional<bwe::ProbeCluster> probe;
    std::size_t probe_sent_bytes = 0;
    std::size_t probe_sent_packets = 0;
    TimePoint probe_started{};
  };

  // Packet path (router_forward.cpp).
  void on_media(Producer& producer, std::size_t layer, const CodecMapping& codec, media::RtpPacket& packet,
                TimePoint now, bool retransmission);
  void forward(Slot& slot, Producer& producer, std::size_t layer, const CodecMapping& codec,
               const media::RtpPacket& packet, bool keyframe, TimePoint now);
  // The fixed header of a packet we send to a slot (RFC 3550 §5.1).
  struct EgressHeader {
    bool marker = false;
    std::uint8_t payload_type = 0;
    std::uint16_t sequence_number = 0;
    std::uint32_t timestamp = 0;
    std::uint32_t ssrc = 0;
  };
  // Writes `header` with the slot's extensions, then the payload (or `padding` octets of RFC 3550
  // padding for a probe) into egress_; returns the packet's size.
  std::optional<std::size_t> write_egress(Slot& slot, const EgressHeader& header, std::span<const std::uint8_t> payload,
                                          TimePoint now, std::size_t padding = 0,
                                          std::optional<std::uint32_t> probe_cluster = std::nullopt);
  void answer_nack(Slot& slot, const media::rtcp::GenericNack& nack, TimePoint now);
  void retransmit(Slot& slot, std::uint16_t sequence, TimePoint now);
  void send_probe_padding(Transport& transport, TimePoint now);
  void pace_probes();

  // Decisions (router_selection.cpp).
  void tick();
  void assign_slots(TimePoint now);
  void select_layers(TimePoint now);
  void set_target(Slot& slot, std::optional<LayerRef> target, TimePoint now);
  void request_keyframe(Producer& producer, std::size_t layer, TimePoint now);
  void send_nacks(TimePoint now);
  void send_slot_maps();
  void log_receivers(TimePoint now);
  void check_liveness(TimePoint now);
  [[nodiscard]] std::uint64_t receiver_available_bps(const Receiver& receiver) const;
  [[nodiscard]] Producer* producer_of(ParticipantId participant);
  [[nodiscard]] bool takes(const Receiver& receiver, VideoCodec codec) const;
  // What `receiver` is offered: every producer, or those whose codec it takes.
  const RankedProducers& offer_for(Receiver& receiver);
  [[nodiscard]] bool admitted(ParticipantId participant) const;
  [[nodiscard]] Slot* slot_by_id(SlotId id);

  void send_rtcp(media::MediaSession& session, std::optional<std::size_t> length);
  std::optional<std::pair<Producer*, std::size_t>> layer_of_source(SourceId source);
  void subscribe(Slot& slot, const LayerRef& layer);
  void unsubscribe(Slot& slot, const LayerRef& layer);
  void start_timer(media::MediaSession& session);
  [[nodiscard]] TimePoint now() const;

  std::string name_;
  RouterConfig config_;
  std::shared_ptr<RouterListener> listener_;
  std::shared_ptr<SfuCounters> counters_;
  TimerQueue* timers_ = nullptr;  // the worker's, from the first session
  TimerQueue::TimerId tick_timer_ = TimerQueue::kNoTimer;
  std::uint64_t ticks_ = 0;

  std::map<ParticipantId, Member> members_;
  ActiveSpeakerDetector speakers_;
  RankedProducers ranked_;
  RankedProducers nobody_;  // what a receiver that is not admitted is offered
  std::uint64_t ranked_speaker_version_ = ~std::uint64_t{0};
  bool producers_changed_ = true;

  ProducerId next_producer_ = 1;
  SlotId next_slot_ = 1;
  SourceId next_source_ = 0;
  std::unordered_map<ProducerId, std::unique_ptr<Producer>> producers_;
  std::unordered_map<SlotId, std::unique_ptr<Slot>> slots_;
  std::map<ParticipantId, Receiver> receivers_;
  std::unordered_map<std::uint64_t, Transport> transports_;  // by session id
  // Slots fed by each producer layer (current or target), for the fan-out.
  std::unordered_map<std::uint64_t, std::vector<Slot*>> subscribers_;  // key: producer << 8 | layer
  std::vector<ParticipantId> producing_;                               // scratch: who sends video now
  std::optional<TimerQueue::TimerId> probe_timer_;                     // 5 ms pacing while a probe cluster is sent
  std::uint8_t fir_sequence_ = 0;                                      // RFC 5104 §4.3.1.1 command sequence number

  // What we send, built here and SRTP-protected in place: a media packet, its RTX copy, RTCP.
  using PacketBuffer = std::array<std::uint8_t, media::kMaxDatagramSize + media::kSrtcpMaxTrailer>;
  alignas(16) PacketBuffer egress_{};
  alignas(16) PacketBuffer rtx_{};
  alignas(16) PacketBuffer rtcp_{};
  alignas(16) PacketBuffer cached_{};  // a copy of a cached packet being retransmitted
};

}  // namespace chorus::sfu
